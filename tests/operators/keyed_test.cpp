// source -> key_by -> count / reduce / aggregate / process (keyed state) -> collect,
// at parallelism 1, 2 and 4, in batch and streaming mode

#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <numeric>
#include <random>
#include <sstream>
#include <stdexcept>
#include <tuple>

#include "sluice/operators/combine.hpp"
#include "sluice/testing/operator_harness.hpp"

#include "support/test_support.hpp"

using namespace sluice;

namespace {

using event = std::pair<int, int>; // (key, sequence number within the key)

std::vector<event> events(int keys, int per_key) {
  std::vector<event> v;
  for (int seq = 0; seq < per_key; ++seq)
    for (int k = 0; k < keys; ++k)
      v.emplace_back(k, seq);
  return v;
}

struct average {
  using input_type = event;
  using accumulator_type = std::pair<int64_t, int64_t>;
  using result_type = double;

  accumulator_type create() const { return {0, 0}; }
  void add(accumulator_type& acc, const event& e) const {
    acc.first += e.second;
    acc.second += 1;
  }
  double result(const accumulator_type& acc) const {
    return static_cast<double>(acc.first) / static_cast<double>(acc.second);
  }
};

/// Sums the sequence numbers of a key; counts its own add and merge calls.
struct counted_sum {
  using input_type = event;
  using accumulator_type = int64_t;
  using result_type = int64_t;

  std::shared_ptr<std::atomic<int64_t>> adds = std::make_shared<std::atomic<int64_t>>(0);
  std::shared_ptr<std::atomic<int64_t>> merges = std::make_shared<std::atomic<int64_t>>(0);

  int64_t create() const { return 0; }
  void add(int64_t& acc, const event& e) const {
    ++*adds;
    acc += e.second;
  }
  void merge(int64_t& acc, int64_t other) const {
    ++*merges;
    acc += other;
  }
  int64_t result(int64_t acc) const { return acc; }
};

/// Uses keyed state of every kind and emits `key:sum:even:odd:mean` at each key's 10th event.
struct stats_fn {
  void process(const event& e, keyed_context<int, std::string>& ctx) {
    auto last = ctx.value<int>("last");
    auto sum = ctx.reducing<int64_t>("sum", [](int64_t a, int64_t b) { return a + b; });
    auto parity = ctx.map<bool, int>("parity");
    auto mean = ctx.aggregating("mean", average{});
    // Assertions do not run on actor threads: a violation fails the pipeline instead.
    if (last.value_or(-1) != e.second - 1)
      throw std::logic_error("value state lost its previous value");
    last.update(e.second);
    sum.add(e.second);
    bool even = e.second % 2 == 0;
    parity.put(even, parity.get(even).value_or(0) + 1);
    mean.add(e);
    if (e.second == 9) {
      std::ostringstream os;
      os << ctx.key() << ":" << *sum.get() << ":" << *parity.get(true) << ":" << *parity.get(false)
         << ":" << *mean.get();
      ctx.emit(os.str());
      last.clear();
      if (last.value().has_value())
        throw std::logic_error("cleared value state still has a value");
    }
  }
};

} // namespace

TEST_CASE("a mergeable aggregation combines before the shuffle in batch mode only") {
  constexpr int keys = 37;
  constexpr int per_key = 200;
  for (auto mode : {execution_mode::batch, execution_mode::streaming}) {
    for (uint32_t parallelism : {1u, 3u}) {
      INFO("parallelism " << parallelism << ", batch mode " << (mode == execution_mode::batch));
      pipeline p{"combined"};
      std::vector<std::pair<int, int64_t>> sums;
      counted_sum sum;
      p.source(from_collection(events(keys, per_key)))
        .parallelism(parallelism)
        .key_by([](const event& e) { return e.first; })
        .aggregate(sum)
        .parallelism(2)
        .sink(collect(sums));
      auto config = test::small_batches();
      config.mode = mode;
      runtime rt{config};
      REQUIRE_FALSE(rt.run(p));
      for (const auto& [k, total] : test::last_per_key(sums))
        CHECK(total == per_key * (per_key - 1) / 2);
      CHECK(test::last_per_key(sums).size() == keys);
      CHECK(*sum.adds == keys * per_key);
      if (mode == execution_mode::batch) {
        // One partial per key from each source instance crosses the shuffle.
        CHECK(*sum.merges >= keys);
        CHECK(*sum.merges <= keys * static_cast<int64_t>(parallelism));
        CHECK(sums.size() == keys);
      } else {
        // Streaming mode still emits one update per record.
        CHECK(*sum.merges == keys * per_key);
        CHECK(sums.size() == keys * per_key);
      }
    }
  }
}

TEST_CASE("a combiner holding more keys than its bound sends them early and stays exact") {
  using combiner = op::combine<int, int (*)(int), count_function<int>>;
  testing::harness_options batch;
  batch.batch_mode = true;
  testing::operator_harness<combiner> h{combiner{[](int k) { return k; }, {}, 4}, batch};
  // 10 distinct keys, each seen twice, through a bound of 4 keys.
  for (int round = 0; round < 2; ++round)
    for (int k = 0; k < 10; ++k)
      h.push(k);
  auto early = h.output().size();
  CHECK(early >= 4); // partials left before the end
  h.end_input();
  std::map<int, int64_t> counts;
  for (auto& [key, partial] : h.take_values()) {
    CHECK(partial >= 1);
    counts[key] += partial;
  }
  CHECK(counts.size() == 10);
  CHECK(std::all_of(counts.begin(), counts.end(), [](const auto& c) { return c.second == 2; }));
}

TEST_CASE("keyed count, reduce and aggregate give identical results at parallelism 1, 2 and 4") {
  for (auto mode : {execution_mode::batch, execution_mode::streaming}) {
    std::map<int, int64_t> reference_counts;
    std::optional<std::map<int, int64_t>> first_counts;
    std::optional<std::map<int, event>> first_reduced;
    std::optional<std::map<int, double>> first_averages;
    for (uint32_t parallelism : {1u, 2u, 4u}) {
      INFO("parallelism " << parallelism << ", batch mode " << (mode == execution_mode::batch));
      pipeline p{"keyed"};
      std::vector<std::pair<int, int64_t>> counts;
      std::vector<std::pair<int, event>> reduced;
      std::vector<std::pair<int, double>> averages;
      auto keyed = p.source(from_collection(events(37, 50)))
                     .parallelism(parallelism)
                     .key_by([](const event& e) { return e.first; });
      keyed.count().parallelism(parallelism).sink(collect(counts));
      keyed.reduce([](event a, const event& b) {
             return event{a.first, a.second + b.second};
           })
        .parallelism(parallelism)
        .sink(collect(reduced));
      keyed.aggregate(average{}).parallelism(parallelism).sink(collect(averages));
      auto config = test::small_batches();
      config.mode = mode;
      runtime rt{config};
      REQUIRE_FALSE(rt.run(p));
      if (mode == execution_mode::batch) {
        // Batch mode emits exactly one final result per key.
        CHECK(counts.size() == 37);
        CHECK(reduced.size() == 37);
      } else {
        // Streaming mode emits one update per input record.
        CHECK(counts.size() == 37 * 50);
      }
      auto c = test::last_per_key(counts);
      auto r = test::last_per_key(reduced);
      auto a = test::last_per_key(averages);
      REQUIRE(c.size() == 37);
      for (const auto& [k, n] : c) {
        CHECK(n == 50);
        CHECK(r[k].second == 49 * 50 / 2);
        CHECK(a[k] == Approx(24.5));
      }
      if (first_counts) {
        CHECK(c == *first_counts);
        CHECK(r == *first_reduced);
        CHECK(a == *first_averages);
      } else {
        first_counts = c;
        first_reduced = r;
        first_averages = a;
      }
    }
  }
}

namespace {

/// Keys longer than a short string's inline buffer: a key read in place that outlived its
/// record would be read from freed memory (ASan reports it in the ci build).
std::string long_key(int k) {
  return "a key longer than the small string buffer #" + std::to_string(k);
}

/// Counts, sums and process-counts of (long key, n) records per key, with the key function
/// `key_fn`; sorted by key.
template <class KeyFn>
auto keyed_results_with(KeyFn key_fn, execution_mode mode, uint32_t parallelism) {
  using keyed_event = std::pair<std::string, int>;
  std::vector<keyed_event> input;
  for (int n = 0; n < 40; ++n)
    for (int k = 0; k < 23; ++k)
      input.emplace_back(long_key(k), n);
  pipeline p{"reference-keys"};
  std::vector<std::pair<std::string, int64_t>> counts;
  std::vector<std::pair<std::string, keyed_event>> sums;
  std::vector<std::pair<std::string, int64_t>> seen;
  auto keyed = p.source(from_collection(input)).parallelism(parallelism).key_by(key_fn);
  keyed.count().parallelism(parallelism).sink(collect(counts));
  keyed
    .reduce([](keyed_event a, const keyed_event& b) {
      return keyed_event{a.first, a.second + b.second};
    })
    .parallelism(parallelism)
    .sink(collect(sums));
  keyed
    .template process<std::pair<std::string, int64_t>>(
      [](const keyed_event&, keyed_context<std::string, std::pair<std::string, int64_t>>& ctx) {
        auto n = ctx.template value<int64_t>("n");
        n.update(n.value_or(0) + 1);
        ctx.emit({ctx.key(), *n.value()});
      })
    .parallelism(parallelism)
    .sink(collect(seen));
  auto config = test::small_batches();
  config.mode = mode;
  runtime rt{config};
  auto err = rt.run(p);
  REQUIRE_FALSE(err);
  return std::tuple{test::last_per_key(counts), test::last_per_key(sums), test::last_per_key(seen)};
}

} // namespace

TEST_CASE("a key function may return a reference into the record") {
  using keyed_event = std::pair<std::string, int>;
  for (auto mode : {execution_mode::batch, execution_mode::streaming}) {
    for (uint32_t parallelism : {1u, 2u}) {
      INFO("parallelism " << parallelism << ", batch mode " << (mode == execution_mode::batch));
      auto by_value =
        keyed_results_with([](const keyed_event& e) { return e.first; }, mode, parallelism);
      const auto& [counts, sums, seen] = by_value;
      REQUIRE(counts.size() == 23);
      for (int k = 0; k < 23; ++k) {
        CHECK(counts.at(long_key(k)) == 40);
        CHECK(sums.at(long_key(k)).second == 39 * 40 / 2);
        CHECK(seen.at(long_key(k)) == 40);
      }
      CHECK(keyed_results_with(&keyed_event::first, mode, parallelism) == by_value);
      CHECK(keyed_results_with([](const keyed_event& e) -> const std::string& { return e.first; },
                               mode, parallelism)
            == by_value);
    }
  }
}

TEST_CASE("records of a key reach a keyed operator in the order they were sent") {
  for (uint32_t parallelism : {1u, 2u, 4u}) {
    INFO("parallelism " << parallelism);
    pipeline p{"order"};
    std::vector<std::pair<int, std::vector<int>>> out;
    p.source(from_collection(events(11, 300)))
      .key_by([](const event& e) { return e.first; })
      .process<std::pair<int, std::vector<int>>>(
        [](const event& e, keyed_context<int, std::pair<int, std::vector<int>>>& ctx) {
          auto seen = ctx.list<int>("seen");
          seen.add(e.second);
          if (e.second == 299)
            ctx.emit({ctx.key(), seen.get()});
        })
      .parallelism(parallelism)
      .sink(collect(out));
    runtime rt{test::small_batches()};
    REQUIRE_FALSE(rt.run(p));
    REQUIRE(out.size() == 11);
    std::vector<int> expected(300);
    std::iota(expected.begin(), expected.end(), 0);
    for (const auto& [key, seqs] : out)
      CHECK(seqs == expected);
  }
}

TEST_CASE("keyed state of every kind is scoped to the current key") {
  pipeline p{"state"};
  std::vector<std::string> out;
  p.source(from_collection(events(3, 10)))
    .key_by([](const event& e) { return e.first; })
    .process<std::string>(stats_fn{})
    .parallelism(2)
    .sink(collect(out));
  runtime rt{test::small_batches()};
  REQUIRE_FALSE(rt.run(p));
  std::sort(out.begin(), out.end());
  CHECK(out == std::vector<std::string>{"0:45:5:5:4.5", "1:45:5:5:4.5", "2:45:5:5:4.5"});
}

TEST_CASE("keyed state gives the same results in memory and in LMDB, also when it spills") {
  struct backend {
    state_backend kind;
    size_t overlay_entries;
  };
  for (auto b : {backend{state_backend::memory, 0}, backend{state_backend::lmdb, size_t{1} << 20},
                 backend{state_backend::lmdb, 2}}) {
    INFO("LMDB: " << (b.kind == state_backend::lmdb) << ", overlay " << b.overlay_entries);
    pipeline p{"backends"};
    std::vector<std::string> stats;
    std::vector<std::pair<int, int64_t>> counts;
    auto keyed =
      p.source(from_collection(events(40, 10))).parallelism(2).key_by([](const event& e) {
        return e.first;
      });
    keyed.process<std::string>(stats_fn{}).parallelism(2).sink(collect(stats));
    keyed.count().parallelism(3).sink(collect(counts));
    auto config = test::small_batches();
    config.mode = execution_mode::streaming;
    config.state = b.kind;
    if (b.overlay_entries > 0)
      config.state_overlay_entries = b.overlay_entries;
    runtime rt{config};
    REQUIRE_FALSE(rt.run(p));
    REQUIRE(stats.size() == 40);
    for (const auto& line : stats)
      CHECK_THAT(line, Catch::EndsWith(":45:5:5:4.5"));
    auto c = test::last_per_key(counts);
    REQUIRE(c.size() == 40);
    for (const auto& [k, n] : c)
      CHECK(n == 10);
  }
}

TEST_CASE("LMDB state lives under state_dir, and a type clash there names operator and path") {
  test::temp_dir dir;
  auto run = [&](auto fn) {
    pipeline p{"typed"};
    std::vector<int> out;
    p.source(from_collection(events(2, 2)))
      .key_by([](const event& e) { return e.first; })
      .template process<int>(fn)
      .name("keeper")
      .sink(collect(out));
    runtime_config config;
    config.state_dir = dir.path().string();
    runtime rt{config};
    return rt.run(p);
  };
  REQUIRE_FALSE(run(
    [](const event& e, keyed_context<int, int>& ctx) { ctx.value<int>("x").update(e.second); }));
  auto instance_dir = dir.path() / "typed" / "keeper-0";
  CHECK(std::filesystem::exists(instance_dir / "data.mdb"));
  auto err = run(
    [](const event&, keyed_context<int, int>& ctx) { ctx.value<std::string>("x").update("oops"); });
  auto info = info_of(err);
  REQUIRE(info);
  CHECK(info->code == errc::state);
  CHECK(info->operator_name == "keeper");
  CHECK(info->instance == 0u);
  CHECK(info->subject == "x");
  CHECK_THAT(info->message, Catch::Contains(instance_dir.string()));
}

TEST_CASE("asking for keyed state under a used name with another type fails the operator") {
  pipeline p{"state-type"};
  std::vector<int> out;
  p.source(from_collection(events(2, 2)))
    .key_by([](const event& e) { return e.first; })
    .process<int>([](const event& e, keyed_context<int, int>& ctx) {
      ctx.value<int>("x").update(e.second);
      ctx.value<std::string>("x").update("oops");
    })
    .name("mixed")
    .sink(collect(out));
  runtime rt;
  auto err = rt.run(p);
  auto info = info_of(err);
  REQUIRE(info);
  CHECK(info->code == errc::state);
  CHECK(info->operator_name == "mixed");
  CHECK(info->subject == "x");
}

TEST_CASE("word count equals an independent count at every parallelism") {
  test::temp_dir dir;
  auto path = dir.file("words.txt");
  std::map<std::string, int64_t> reference;
  {
    std::mt19937 rng{42};
    std::ofstream file{path};
    for (int line = 0; line < 3000; ++line) {
      int words = static_cast<int>(rng() % 12);
      for (int w = 0; w < words; ++w) {
        auto word = "w" + std::to_string(rng() % 500);
        reference[word]++;
        file << word << (w + 1 < words ? " " : "");
      }
      file << '\n';
    }
  }
  for (auto mode : {execution_mode::batch, execution_mode::streaming}) {
    for (uint32_t parallelism : {1u, 2u, 4u}) {
      INFO("parallelism " << parallelism);
      pipeline p{"wordcount"};
      std::vector<std::pair<std::string, int64_t>> out;
      p.source(text_file(path))
        .flat_map([](const std::string& line, emitter<std::string>& emit) {
          std::istringstream in{line};
          for (std::string w; in >> w;)
            emit(w);
        })
        .key_by(std::identity{})
        .count()
        .sink(collect(out));
      auto config = test::small_batches(parallelism);
      config.mode = mode;
      runtime rt{config};
      REQUIRE_FALSE(rt.run(p));
      CHECK(test::last_per_key(out) == reference);
    }
  }
}
