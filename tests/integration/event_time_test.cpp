// (key, event time) records -> assign_watermarks -> key_by -> tumbling window with allowed
// lateness -> counts per key and window, late records -> a sink of their own
//
// A record within the allowed lateness fires its window again with the updated count; one later
// than that goes to late_records() with its event time, at any parallelism of the window. An
// input declared idle does not hold back the watermark downstream; one that is not does. Bad
// watermark strategies fail the run naming the stage.

#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "support/test_support.hpp"
#include "support/timed_events.hpp"

using namespace sluice;
using namespace std::chrono_literals;

namespace {

using event = test::timed_event;
using count = test::window_count;
using test::counts_of;

struct count_events {
  using input_type = event;
  using accumulator_type = uint64_t;
  using result_type = uint64_t;
  uint64_t create() const { return 0; }
  void add(uint64_t& acc, const event&) const { ++acc; }
  uint64_t result(uint64_t acc) const { return acc; }
  void merge(uint64_t& acc, uint64_t&& other) const { acc += other; }
};

/// An unbounded source that emits `items` (value, event time) with a watermark behind each,
/// then nothing, until the job is cancelled.
class then_silent {
public:
  using output_type = event;

  explicit then_silent(std::vector<event> items) : items_(std::move(items)) {}

  [[nodiscard]] bool bounded() const { return false; }

  source_step produce(source_context<event>& ctx, size_t) {
    if (next_ == items_.size())
      return source_step::wait(20ms);
    const auto& item = items_[next_++];
    ctx.emit(event{item}, item.second);
    ctx.emit_watermark(item.second);
    return source_step::more();
  }

private:
  std::vector<event> items_;
  size_t next_ = 0;
};

} // namespace

TEST_CASE("records later than the allowed lateness go to late_records(), earlier ones update") {
  // Watermarks follow each record (batches of one), a millisecond below its time: a at 12 fires
  // [0, 10); a at 3 is late but within the 5 ms lateness, so [0, 10) fires again; b at 15 ends
  // the lateness of [0, 10), so a at 4 and b at 9 are late for good.
  std::vector<event> items{{"a", 1},  {"b", 2}, {"a", 5},  {"a", 12}, {"a", 3},
                           {"b", 15}, {"a", 4}, {"a", 16}, {"b", 9}};
  for (uint32_t parallelism : {1u, 2u, 4u}) {
    INFO("window parallelism " << parallelism);
    std::vector<window_result<std::string, uint64_t>> results;
    std::vector<event> late;
    pipeline p{"late"};
    auto windows = p.source(from_collection(items))
                     .name("events")
                     .assign_watermarks(monotonous_timestamps().with_timestamps(
                       [](const event& e) { return e.second; }))
                     .key_by(&event::first)
                     .window(tumbling_window{10ms})
                     .allowed_lateness(5ms)
                     .with_late_records()
                     .aggregate(count_events{});
    windows.name("counts").parallelism(parallelism);
    windows.sink(collect(results));
    windows.late_records().name("late").parallelism(1).sink(collect(late));
    auto config = test::small_batches();
    config.batch_size = 1;
    runtime rt{config};
    auto error = rt.run(p);
    INFO(describe(error));
    REQUIRE_FALSE(error);
    CHECK(counts_of(results)
          == std::vector<count>{
            {"a", 0, 10, 2}, {"a", 0, 10, 3}, {"a", 10, 20, 2}, {"b", 0, 10, 1}, {"b", 10, 20, 1}});
    std::sort(late.begin(), late.end());
    CHECK(late == std::vector<event>{{"a", 4}, {"b", 9}});
  }
}

TEST_CASE("a record as far behind the newest as the watermark allows is on time") {
  // Batches of one, each followed by its watermark. A record at the newest time so far, or
  // `max_delay` behind it, joins its window even on the window's last millisecond.
  auto counted = [](auto strategy, std::vector<event> items) {
    std::vector<window_result<std::string, uint64_t>> results;
    std::vector<event> late;
    pipeline p{"on_time"};
    auto windows = p.source(from_collection(std::move(items)))
                     .assign_watermarks(
                       std::move(strategy).with_timestamps([](const event& e) { return e.second; }))
                     .key_by(&event::first)
                     .window(tumbling_window{10ms})
                     .with_late_records()
                     .aggregate(count_events{});
    windows.sink(collect(results));
    windows.late_records().sink(collect(late));
    auto config = test::small_batches();
    config.batch_size = 1;
    runtime rt{config};
    auto error = rt.run(p);
    INFO(describe(error));
    REQUIRE_FALSE(error);
    CHECK(late.empty());
    return counts_of(results);
  };
  CHECK(counted(monotonous_timestamps(), {{"a", 9}, {"a", 9}, {"a", 10}})
        == std::vector<count>{{"a", 0, 10, 2}, {"a", 10, 20, 1}});
  CHECK(counted(bounded_out_of_orderness(5ms), {{"a", 14}, {"a", 9}, {"a", 15}})
        == std::vector<count>{{"a", 0, 10, 1}, {"a", 10, 20, 2}});
  // Sources' own watermarks follow the same rule: a collection's, a generator's.
  std::vector<window_result<std::string, uint64_t>> results;
  pipeline p{"source_watermarks"};
  auto times = std::vector<timestamp>{9, 9, 14, 9, 20};
  p.source(generate<event>(
             [times](uint64_t i) {
               return event{"a", times[i]};
             },
             {.count = times.size(), .out_of_orderness = 5ms},
             [](uint64_t, const event& e) { return e.second; }))
    .key_by(&event::first)
    .window(tumbling_window{10ms})
    .aggregate(count_events{})
    .sink(collect(results));
  auto config = test::small_batches();
  config.batch_size = 1;
  runtime rt{config};
  REQUIRE_FALSE(rt.run(p));
  CHECK(counts_of(results)
        == std::vector<count>{{"a", 0, 10, 3}, {"a", 10, 20, 1}, {"a", 20, 30, 1}});
}

TEST_CASE("late records keep their event time on the side output") {
  std::vector<record<event>> late;
  pipeline p{"late_times"};
  auto windows =
    p.source(from_collection<event>({{"a", 30}, {"a", 7}}, [](const event& e) { return e.second; }))
      .key_by(&event::first)
      .window(tumbling_window{10ms})
      .with_late_records()
      .aggregate(count_events{});
  std::vector<window_result<std::string, uint64_t>> results;
  windows.sink(collect(results));
  windows.late_records()
    .process<record<event>>([](const event& e, context<record<event>>& ctx) {
      ctx.emit(record<event>{e, ctx.current_time()});
    })
    .sink(collect(late));
  auto config = test::small_batches();
  config.batch_size = 1;
  runtime rt{config};
  REQUIRE_FALSE(rt.run(p));
  REQUIRE(late.size() == 1);
  CHECK(late[0].value == event{"a", 7});
  CHECK(late[0].time == 7);
}

TEST_CASE("an input declared idle does not hold back the windows of the other") {
  std::mutex mutex;
  std::vector<window_result<std::string, uint64_t>> fired;
  pipeline p{"idle"};
  auto active = p.source(then_silent{{{"a", 1}, {"a", 2}, {"a", 25}}}).name("active");
  auto silent = p.source(then_silent{{}})
                  .name("silent")
                  .assign_watermarks(monotonous_timestamps().with_idleness(50ms));
  active.union_with(silent)
    .key_by(&event::first)
    .window(tumbling_window{10ms})
    .aggregate(count_events{})
    .peek([&](const window_result<std::string, uint64_t>& r) {
      std::lock_guard lock{mutex};
      fired.push_back(r);
    })
    .filter([](const auto&) { return false; })
    .sink(print());
  runtime rt{test::small_batches()};
  auto j = rt.start(p);
  REQUIRE(j);
  bool fired_before_the_end = test::eventually([&] {
    std::lock_guard lock{mutex};
    return !fired.empty();
  });
  j->cancel();
  (void)j->wait();
  CHECK(fired_before_the_end);
  std::lock_guard lock{mutex};
  CHECK(counts_of(fired) == std::vector<count>{{"a", 0, 10, 2}});
}

TEST_CASE("an input that is not declared idle holds back the windows of the other") {
  std::atomic<bool> fired = false;
  pipeline p{"not_idle"};
  auto active = p.source(then_silent{{{"a", 1}, {"a", 25}}}).name("active");
  auto silent = p.source(then_silent{{}}).name("silent");
  std::atomic<uint64_t> records_through = 0;
  active.union_with(silent)
    .peek([&](const event&) { ++records_through; })
    .key_by(&event::first)
    .window(tumbling_window{10ms})
    .aggregate(count_events{})
    .peek([&](const auto&) { fired = true; })
    .filter([](const auto&) { return false; })
    .sink(print());
  runtime rt{test::small_batches()};
  auto j = rt.start(p);
  REQUIRE(j);
  // Both records reached the window, and a watermark past 9 came from "active".
  REQUIRE(test::eventually([&] { return records_through == 2; }));
  std::this_thread::sleep_for(200ms);
  CHECK_FALSE(fired);
  j->cancel();
  (void)j->wait();
}

TEST_CASE("bad watermark strategies fail the run naming the stage") {
  auto refused = [](auto strategy) {
    pipeline p{"bad_strategy"};
    std::vector<event> out;
    p.source(from_collection<event>({{"a", 1}}))
      .name("events")
      .assign_watermarks(strategy)
      .sink(collect(out));
    runtime rt;
    auto error = rt.run(p);
    REQUIRE(error);
    return describe(error);
  };
  auto negative_delay = refused(bounded_out_of_orderness(-1ms));
  CHECK_THAT(negative_delay, Catch::Contains("'events'"));
  CHECK_THAT(negative_delay, Catch::Contains("out-of-orderness must not be negative (was -1 ms)"));
  CHECK_THAT(refused(monotonous_timestamps().with_idleness(-5ms)),
             Catch::Contains("idleness must not be negative (was -5 ms)"));
}
