// words (A, 2 instances) ──key_by──┐
//                                   ├─ connect -> keyed co-process (window counts by event-time
// amounts (B, 1 instance) ─key_by──┘    timers over both inputs) -> sink
//
// The same results at parallelism 1, 2 and 4, after a stop-and-restore, and after the
// two-input instance (or a stage feeding it) is killed alone.

#include <catch2/catch.hpp>

#include <map>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "support/exact_counts.hpp"
#include "support/test_support.hpp"

using namespace sluice;
using namespace std::chrono_literals;

namespace {

constexpr timestamp window = 500;
constexpr uint64_t amounts_per_word = 2; // the second input is half as dense in event time

using amount = std::pair<std::string, int64_t>; // (key, amount)

amount amount_of(uint64_t i) {
  return {test::key_of(i * 7), static_cast<int64_t>(i % 10)};
}

timestamp window_end(timestamp time) {
  return (time / window + 1) * window;
}

/// Per key and tumbling event-time window: the words of the first input and the sum of the
/// amounts of the second, emitted as "<key> <window end> <words> <sum>" when the watermark of
/// both inputs passes the window's end.
struct window_totals {
  void process_first(const std::string&, keyed_context<std::string, std::string>& ctx) {
    add(ctx, 1, 0);
  }

  void process_second(const amount& a, keyed_context<std::string, std::string>& ctx) {
    add(ctx, 0, a.second);
  }

  void on_timer(timestamp time, keyed_context<std::string, std::string>& ctx) {
    auto totals = ctx.map<timestamp, std::pair<int64_t, int64_t>>("totals");
    auto end = time + 1;
    auto t = totals.get(end).value_or(std::pair<int64_t, int64_t>{});
    ctx.emit(ctx.key() + " " + std::to_string(end) + " " + std::to_string(t.first) + " "
             + std::to_string(t.second));
    totals.remove(end);
  }

  static void add(keyed_context<std::string, std::string>& ctx, int64_t words, int64_t sum) {
    auto end = window_end(ctx.current_time());
    auto totals = ctx.map<timestamp, std::pair<int64_t, int64_t>>("totals");
    auto t = totals.get(end).value_or(std::pair<int64_t, int64_t>{});
    totals.put(end, {t.first + words, t.second + sum});
    ctx.register_event_time_timer(end - 1);
  }
};

/// The job: `words` words (one per ms of event time) and `amounts` amounts (one per 2 ms), at
/// `rate` records/s each (0: full speed), connected by key into window totals at
/// `parallelism`, then `sink`.
template <class Sink>
void totals_job(pipeline& p, uint64_t words, uint64_t amounts, double rate, uint32_t parallelism,
                Sink sink, const supervision& tolerant = supervision::operator_default()) {
  auto first = p.source(generate<std::string>(
                          test::key_of, {.count = words, .rate = rate},
                          [](uint64_t i, const std::string&) { return static_cast<timestamp>(i); }))
                 .parallelism(2)
                 .name("words");
  auto second = p.source(generate<amount>(amount_of, {.count = amounts, .rate = rate},
                                          [](uint64_t i, const amount&) {
                                            return static_cast<timestamp>(i * amounts_per_word);
                                          }))
                  .name("amounts");
  first.key_by(std::identity{})
    .connect(second.key_by(&amount::first))
    .template process<std::string>(window_totals{})
    .name("totals")
    .parallelism(parallelism)
    .supervision(tolerant)
    .sink(std::move(sink))
    .name("out");
}

/// Every key's windows exactly once, with the right words and sums.
void check_totals(const std::vector<std::string>& lines, uint64_t words, uint64_t amounts) {
  std::map<std::string, std::pair<int64_t, int64_t>> expected;
  for (uint64_t i = 0; i < words; ++i) {
    auto end = window_end(static_cast<timestamp>(i));
    expected[test::key_of(i) + " " + std::to_string(end)].first += 1;
  }
  for (uint64_t i = 0; i < amounts; ++i) {
    auto a = amount_of(i);
    auto end = window_end(static_cast<timestamp>(i * amounts_per_word));
    expected[a.first + " " + std::to_string(end)].second += a.second;
  }
  std::map<std::string, std::pair<int64_t, int64_t>> seen;
  size_t repeated = 0;
  for (const auto& line : lines) {
    std::istringstream fields{line};
    std::string key, end;
    int64_t n = 0, sum = 0;
    fields >> key >> end >> n >> sum;
    if (!seen.emplace(key + " " + end, std::pair{n, sum}).second)
      ++repeated;
  }
  CHECK(repeated == 0);
  CHECK(seen.size() == expected.size());
  bool identical = seen == expected; // not printed: thousands of windows
  CHECK(identical);
}

} // namespace

TEST_CASE("a keyed two-input operator gives the same totals at parallelism 1, 2 and 4") {
  // The second input ends later in event time than the first: the job ends when both have.
  constexpr uint64_t words = 20'000;
  constexpr uint64_t amounts = 15'000;
  for (uint32_t parallelism : {1u, 2u, 4u}) {
    INFO("parallelism " << parallelism);
    std::vector<std::string> out;
    pipeline p{"two-inputs"};
    totals_job(p, words, amounts, 0, parallelism, collect(out));
    auto config = test::small_batches();
    config.mode = execution_mode::streaming;
    runtime rt{config};
    REQUIRE_FALSE(rt.run(p));
    check_totals(out, words, amounts);
  }
}

TEST_CASE(
  "a keyed two-input operator stopped as by a crash and restored with other "
  "parallelism emits every window once") {
  constexpr uint64_t words = 30'000;
  constexpr uint64_t amounts = 15'000;
  test::temp_dir dir;
  auto config = test::small_batches();
  config.mode = execution_mode::streaming;
  config.state_dir = (dir.path() / "state").string();
  config.checkpoint_interval = 10ms;
  {
    pipeline p{"two-inputs-restore"};
    totals_job(p, words, amounts, 10'000, 2, write_file(dir.file("out.txt")));
    test::stop_after_checkpoints(p, config, 3);
  }
  pipeline p{"two-inputs-restore"};
  totals_job(p, words, amounts, 0, 3, write_file(dir.file("out.txt")));
  runtime rt{config};
  REQUIRE_FALSE(rt.run(p));
  check_totals(test::sink_output_lines(dir, "out.txt"), words, amounts);
}

TEST_CASE(
  "a killed instance of a two-input operator, or of a stage feeding it, restarts alone "
  "and the totals stay exact") {
  constexpr uint64_t words = 80'000;
  constexpr uint64_t amounts = 40'000;
  test::temp_dir state;
  std::vector<std::string> out;
  pipeline p{"two-inputs-kill"};
  supervision tolerant;
  tolerant.intensity.max_restarts = 100;
  totals_job(p, words, amounts, 40'000, 2, collect(out), tolerant);
  runtime rt{test::recovery_config(state)};
  auto j = rt.start(p);
  REQUIRE(j);
  REQUIRE(test::wait_for_checkpoint(*j, 2));
  const std::vector<std::pair<std::string, uint32_t>> targets{
    {"totals", 0}, {"totals", 1}, {"totals/second", 0}, {"totals", 1}, {"totals/first", 1}};
  CHECK(test::kill_in_turn(*j, targets, 150ms) >= 2);
  auto error = j->wait();
  INFO(describe(error));
  REQUIRE_FALSE(error);
  check_totals(out, words, amounts);
}
