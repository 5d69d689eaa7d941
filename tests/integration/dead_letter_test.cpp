// The skip failure policy: a record that user code throws on goes to the pipeline's dead letters
// with where and why it failed, and every other record is processed as if it was not there.

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "support/test_support.hpp"

using namespace sluice;
using namespace std::chrono_literals;

namespace {

/// Throws on the multiples of `poison_every`, else returns the value.
int64_t checked(int64_t value, int64_t poison_every) {
  if (value % poison_every == 0)
    throw std::invalid_argument("poison " + std::to_string(value));
  return value;
}

std::vector<dead_letter> sorted_by_payload(std::vector<dead_letter> letters) {
  std::sort(letters.begin(), letters.end(), [](const auto& a, const auto& b) {
    return std::stoll(a.payload) < std::stoll(b.payload);
  });
  return letters;
}

} // namespace

TEST_CASE("a poison record under skip goes to the dead letters and all other results are exact") {
  auto parallelism = GENERATE(1U, 2U, 4U);
  std::vector<int64_t> values;
  for (int64_t v = 1; v <= 10'000; ++v)
    values.push_back(v);
  std::vector<int64_t> out;
  std::vector<dead_letter> letters;
  pipeline p{"poison"};
  p.source(from_collection(values, [](const int64_t& v) { return timestamp{v}; }))
    .map([](int64_t v) { return v == 4'242 ? throw std::runtime_error("bad record") : v * 2; })
    .name("double")
    .parallelism(parallelism)
    .on_failure(failure_policy::skip)
    .sink(collect(out));
  p.dead_letters().sink(collect(letters));
  runtime rt{test::small_batches()};
  auto error = rt.run(p);
  INFO(describe(error));
  REQUIRE_FALSE(error);

  std::vector<int64_t> expected;
  for (auto v : values)
    if (v != 4'242)
      expected.push_back(v * 2);
  std::sort(out.begin(), out.end());
  CHECK(out == expected);
  REQUIRE(letters.size() == 1);
  const auto& letter = letters.front();
  CHECK(letter.pipeline == "poison");
  CHECK(letter.operator_name == "double");
  CHECK(letter.instance < parallelism);
  CHECK(letter.key.empty());
  CHECK(letter.error == "bad record");
  CHECK(letter.payload == "4242");
  CHECK(letter.time == 4'242);
}

namespace {

/// Sums the second values of a key; throws on a negative one.
struct checked_sum {
  using input_type = std::pair<int64_t, int64_t>;
  using accumulator_type = int64_t;
  using result_type = int64_t;

  int64_t create() const { return 0; }
  void add(int64_t& acc, const input_type& x) const {
    if (x.second < 0)
      throw std::domain_error("negative " + std::to_string(x.second));
    acc += x.second;
  }
  void merge(int64_t& acc, int64_t other) const { acc += other; }
  int64_t result(int64_t acc) const { return acc; }
};

} // namespace

TEST_CASE("a keyed aggregation under skip names the key and leaves no trace of the record") {
  // Batch mode: the aggregation pre-aggregates in a combine stage before the shuffle. Key 7000's
  // only record fails, so it has no result at all; key 3 loses one record.
  std::vector<std::pair<int64_t, int64_t>> values;
  for (int64_t v = 0; v < 1'000; ++v)
    values.emplace_back(v % 10, v);
  values.emplace_back(7'000, -1);
  values.emplace_back(3, -2);
  std::vector<std::pair<int64_t, int64_t>> out;
  std::vector<dead_letter> letters;
  pipeline p{"sums"};
  p.source(from_collection(values))
    .key_by([](const std::pair<int64_t, int64_t>& x) { return x.first; })
    .aggregate(checked_sum{})
    .name("sum")
    .parallelism(2)
    .on_failure(failure_policy::skip)
    .sink(collect(out));
  p.dead_letters().sink(collect(letters));
  runtime_config config = test::small_batches(2);
  config.mode = execution_mode::batch;
  runtime rt{config};
  auto error = rt.run(p);
  INFO(describe(error));
  REQUIRE_FALSE(error);

  std::map<int64_t, int64_t> sums{out.begin(), out.end()};
  std::map<int64_t, int64_t> expected;
  for (int64_t v = 0; v < 1'000; ++v)
    expected[v % 10] += v;
  CHECK(sums == expected);
  CHECK(out.size() == expected.size());
  REQUIRE(letters.size() == 2);
  std::sort(letters.begin(), letters.end(),
            [](const auto& a, const auto& b) { return a.key < b.key; });
  CHECK(letters[0].operator_name == "sum/combine");
  CHECK(letters[0].key == "3");
  CHECK(letters[0].error == "negative -2");
  CHECK(letters[0].payload == "3,-2");
  CHECK(letters[1].key == "7000");
  CHECK(letters[1].payload == "7000,-1");
}

TEST_CASE("dead letters stay exactly once when the instance that skipped them is killed") {
  test::temp_dir state;
  constexpr int64_t records = 200'000;
  constexpr int64_t poison_every = 101; // odd and even: both instances of check skip some
  constexpr int64_t poisoned = (records - 1) / poison_every + 1;
  std::vector<int64_t> out;
  std::vector<dead_letter> letters;
  pipeline p{"poison-recovery"};
  p.source(
     generate<int64_t>([](uint64_t i) { return static_cast<int64_t>(i); }, {records, 100'000}))
    .parallelism(2)
    .map([](int64_t v) { return checked(v, poison_every); })
    .name("check")
    .parallelism(2)
    .on_failure(failure_policy::skip)
    .sink(collect(out))
    .parallelism(2);
  p.dead_letters().sink(collect(letters)).name("dead letters out");
  runtime rt{test::recovery_config(state)};
  auto j = rt.start(p);
  REQUIRE(j);
  REQUIRE(test::wait_for_checkpoint(*j, 2));
  REQUIRE(test::eventually([&] {
    for (const auto& s : j->inspect())
      if (s.operator_name == "check" && s.instance == 1 && s.records_skipped > 0)
        return true;
    return false;
  }));
  REQUIRE_FALSE(j->kill("check", 1));
  REQUIRE_FALSE(j->kill("dead letters", 0));
  REQUIRE_FALSE(j->kill("dead letters out", 0));
  auto error = j->wait();
  INFO(describe(error));
  REQUIRE_FALSE(error);

  CHECK(out.size() == static_cast<size_t>(records - poisoned));
  std::sort(out.begin(), out.end());
  CHECK(std::adjacent_find(out.begin(), out.end()) == out.end());
  REQUIRE(letters.size() == static_cast<size_t>(poisoned));
  letters = sorted_by_payload(std::move(letters));
  for (int64_t i = 0; i < poisoned; ++i) {
    INFO("letter " << i);
    CHECK(letters[static_cast<size_t>(i)].payload == std::to_string(i * poison_every));
    CHECK(letters[static_cast<size_t>(i)].error == "poison " + std::to_string(i * poison_every));
  }
}

TEST_CASE("dead letters written to a file are one JSON object per line") {
  test::temp_dir dir;
  auto path = dir.file("dead.jsonl");
  std::vector<std::string> out;
  pipeline p{"lines"};
  p.source(from_collection<std::string>({"ok", "bad \"quoted\"\tline", "fine"}))
    .filter([](const std::string& s) {
      if (s.starts_with("bad"))
        throw std::runtime_error("cannot parse\n" + s);
      return true;
    })
    .name("parse")
    .on_failure(failure_policy::skip)
    .sink(collect(out));
  p.dead_letters().sink(write_file(path));
  runtime rt;
  auto error = rt.run(p);
  INFO(describe(error));
  REQUIRE_FALSE(error);
  CHECK(out == std::vector<std::string>{"ok", "fine"});
  CHECK(test::read_lines(path)
        == std::vector<std::string>{
          R"({"pipeline":"lines","operator":"parse","instance":0,"key":"",)"
          R"("error":"cannot parse\nbad \"quoted\"\tline","payload":"bad \"quoted\"\tline",)"
          R"("time":0})"});
}

TEST_CASE("skip without a dead-letter sink or on a source is a clear error") {
  std::vector<int64_t> out;
  SECTION("no dead-letter sink") {
    pipeline p{"nowhere"};
    p.source(from_collection<int64_t>({1, 2}))
      .map([](int64_t v) { return v; })
      .name("id")
      .on_failure(failure_policy::skip)
      .sink(collect(out));
    runtime rt;
    auto info = info_of(rt.run(p));
    REQUIRE(info);
    CHECK(info->code == errc::configuration);
    CHECK(info->operator_name == "id");
    CHECK_THAT(info->message, Catch::Contains("end p.dead_letters() in a sink"));
  }
  SECTION("dead letters without a sink") {
    pipeline p{"unconnected"};
    p.source(from_collection<int64_t>({1, 2})).sink(collect(out));
    p.dead_letters();
    runtime rt;
    auto info = info_of(rt.run(p));
    REQUIRE(info);
    CHECK(info->code == errc::configuration);
    CHECK(info->operator_name == "dead letters");
    CHECK_THAT(info->message, Catch::Contains("has no consumer"));
  }
  SECTION("a source") {
    std::vector<dead_letter> letters;
    pipeline p{"source"};
    p.source(from_collection<int64_t>({1, 2}))
      .name("numbers")
      .on_failure(failure_policy::skip)
      .sink(collect(out));
    p.dead_letters().sink(collect(letters));
    runtime rt;
    auto info = info_of(rt.run(p));
    REQUIRE(info);
    CHECK(info->code == errc::configuration);
    CHECK(info->pipeline == "source");
    CHECK(info->operator_name == "numbers");
    CHECK_THAT(info->message, Catch::Contains("is a source that decodes nothing"));
  }
}
