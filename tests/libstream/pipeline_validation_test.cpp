// misuse of the DSL and failing user code -> runtime::run -> a clear error, never a hang

#include <catch2/catch.hpp>

#include <stdexcept>

#include "support/test_support.hpp"

using namespace sluice;

namespace {

std::vector<int> numbers(int n) {
  std::vector<int> v(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i)
    v[static_cast<size_t>(i)] = i;
  return v;
}

/// The message of the error `p` fails with, which must have code `code` ("" if it runs).
std::string run_error(pipeline& p, runtime_config config = {}, errc code = errc::configuration) {
  runtime rt{config};
  auto err = rt.run(p);
  if (!err)
    return {};
  auto info = info_of(err);
  REQUIRE(info);
  CHECK(info->code == code);
  return info->message;
}

} // namespace

TEST_CASE("parallelism 0 is an error naming the operator") {
  pipeline p{"bad"};
  std::vector<int> out;
  p.source(from_collection(numbers(10)))
    .map([](int x) { return x; })
    .name("doubler")
    .parallelism(0)
    .sink(collect(out));
  runtime rt;
  auto info = info_of(rt.run(p));
  REQUIRE(info);
  CHECK(info->code == errc::configuration);
  CHECK(info->pipeline == "bad");
  CHECK(info->operator_name == "doubler");
  CHECK_THAT(info->message, Catch::Contains("parallelism 0"));
}

TEST_CASE("two operators of one name are an error: they would share their state") {
  pipeline p{"twins"};
  std::vector<int> out;
  p.source(from_collection(numbers(10)))
    .map([](int x) { return x + 1; })
    .name("step")
    .map([](int x) { return x * 2; })
    .name("step")
    .sink(collect(out));
  CHECK_THAT(run_error(p),
             Catch::Contains("two operators are named 'step'") && Catch::Contains(".name("));
  pipeline q{"lookalikes"};
  q.source(from_collection(numbers(10)))
    .map([](int x) { return x + 1; })
    .name("a/b")
    .map([](int x) { return x * 2; })
    .name("a_b")
    .sink(collect(out));
  CHECK_THAT(run_error(q),
             Catch::Contains("operators 'a/b' and 'a_b'") && Catch::Contains("one directory"));
}

TEST_CASE("a pipeline without a sink is an error") {
  pipeline p{"nosink"};
  p.source(from_collection(numbers(10))).map([](int x) { return x; });
  CHECK_THAT(run_error(p), Catch::Contains("no sink"));
}

TEST_CASE("an empty pipeline is an error") {
  pipeline p{"empty"};
  CHECK_THAT(run_error(p), Catch::Contains("no source"));
}

TEST_CASE("an operator whose output goes nowhere is an error") {
  pipeline p{"dangling"};
  std::vector<int> out;
  auto s = p.source(from_collection(numbers(10)));
  s.sink(collect(out));
  s.map([](int x) { return x + 1; }).name("lost");
  CHECK_THAT(run_error(p), Catch::Contains("'lost'") && Catch::Contains("no consumer"));
}

TEST_CASE("key_by with an empty key function is an error") {
  pipeline p{"nokey"};
  std::vector<std::pair<int, int64_t>> out;
  std::function<int(const int&)> no_key;
  p.source(from_collection(numbers(10))).key_by(no_key).count().sink(collect(out));
  CHECK_THAT(run_error(p), Catch::Contains("empty key function"));
}

TEST_CASE("forward between operators of different parallelism is an error") {
  pipeline p{"forward"};
  std::vector<int> out;
  p.source(from_collection(numbers(10)))
    .parallelism(2)
    .forward()
    .map([](int x) { return x; })
    .parallelism(3)
    .sink(collect(out));
  CHECK_THAT(run_error(p), Catch::Contains("forward()") && Catch::Contains("equal parallelism"));
}

TEST_CASE("setting parallelism on a union is an error that says where to set it") {
  pipeline p{"union"};
  std::vector<int> out;
  auto a = p.source(from_collection(numbers(10)));
  auto b = p.source(from_collection(numbers(10)));
  auto u = a.union_with(b);
  u.parallelism(2);
  u.sink(collect(out));
  CHECK_THAT(run_error(p), Catch::Contains("union"));
}

TEST_CASE("batch execution mode with an unbounded source is an error") {
  pipeline p{"batch"};
  std::vector<int64_t> out;
  p.source(generate<int64_t>([](uint64_t i) { return static_cast<int64_t>(i); }))
    .sink(collect(out));
  runtime_config config;
  config.mode = execution_mode::batch;
  CHECK_THAT(run_error(p, config), Catch::Contains("bounded"));
}

TEST_CASE("a zero batch size or input buffer is an error") {
  pipeline p{"config"};
  std::vector<int> out;
  p.source(from_collection(numbers(10))).sink(collect(out));
  runtime_config config;
  config.batch_size = 0;
  CHECK_THAT(run_error(p, config), Catch::Contains("batch_size"));
  config.batch_size = 16;
  config.input_buffer = 0;
  CHECK_THAT(run_error(p, config), Catch::Contains("input_buffer"));
}

TEST_CASE("a throwing user function fails the run with operator, instance and exception text") {
  for (uint32_t parallelism : {1u, 3u}) {
    pipeline p{"throws"};
    std::vector<int> out;
    p.source(from_collection(numbers(1000)))
      .parallelism(parallelism)
      .map([](int x) {
        if (x == 777)
          throw std::runtime_error("poison record 777");
        return x;
      })
      .name("fragile")
      .parallelism(parallelism)
      .sink(collect(out));
    runtime rt{test::small_batches()};
    auto err = rt.run(p);
    INFO(describe(err));
    auto info = info_of(err);
    REQUIRE(info);
    CHECK(info->code == errc::user_code);
    CHECK(info->pipeline == "throws");
    CHECK(info->operator_name == "fragile");
    REQUIRE(info->instance);
    CHECK(*info->instance < parallelism);
    CHECK_THAT(info->message, Catch::Contains("poison record 777")
                                && Catch::Contains("of " + std::to_string(parallelism)));
  }
}

TEST_CASE("a failure in an unbounded pipeline ends the run instead of hanging") {
  pipeline p{"unbounded-failure"};
  std::vector<int64_t> out;
  p.source(generate<int64_t>([](uint64_t i) { return static_cast<int64_t>(i); }))
    .filter([](int64_t x) {
      if (x == 100000)
        throw std::logic_error("boom");
      return false;
    })
    .sink(collect(out));
  CHECK_THAT(run_error(p, {}, errc::user_code), Catch::Contains("boom"));
}

TEST_CASE("a missing input file is an error naming the path") {
  test::temp_dir dir;
  pipeline p{"nofile"};
  std::vector<std::string> out;
  p.source(text_file(dir.file("missing.txt"))).sink(collect(out));
  runtime rt;
  auto info = info_of(rt.run(p));
  REQUIRE(info);
  CHECK(info->code == errc::io);
  CHECK(info->subject == dir.file("missing.txt"));
  CHECK_THAT(info->operator_name, Catch::Contains("source"));
}

TEST_CASE("an unwritable output file is an error naming the path") {
  test::temp_dir dir;
  pipeline p{"unwritable"};
  p.source(from_collection(numbers(10))).sink(write_file(dir.file("no-such-dir/out.txt")));
  runtime rt;
  auto info = info_of(rt.run(p));
  REQUIRE(info);
  CHECK(info->code == errc::io);
  CHECK_THAT(info->subject, Catch::Contains("no-such-dir/out.txt"));
}

TEST_CASE("a pipeline can run again after it ended") {
  pipeline p{"twice"};
  std::vector<int> out;
  p.source(from_collection(numbers(100))).sink(collect(out));
  runtime rt;
  REQUIRE_FALSE(rt.run(p));
  REQUIRE_FALSE(rt.run(p));
  CHECK(out.size() == 200);
}
