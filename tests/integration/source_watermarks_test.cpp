// (key, event time) records from a source of several splits, read with a watermark strategy ->
// key_by -> tumbling window -> counts per key and window, late records -> a sink of their own
//
// Each split has its own watermark and the source's is their minimum: a split behind the others
// is not late, where one watermark over the whole source makes it late. A split that ends stops
// holding the watermark back; one idle for the strategy's idleness does too, and one that is
// not declared idle holds it. The strategy's timestamp assigner sets the event time. A Kafka
// source's partitions are its splits. Bad strategies fail the run naming the source.

#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "sluice/operators/kafka_source.hpp"

#include "support/kafka_support.hpp"
#include "support/test_support.hpp"
#include "support/timed_events.hpp"

using namespace sluice;
using namespace std::chrono_literals;

namespace {

using event = test::timed_event;
using count = test::window_count;
using window_counts = std::vector<window_result<std::string, int64_t>>;
using test::counts_of;
using test::time_of_event;

/// One record of a split: the split, then the record (event time 0: the strategy sets it).
struct split_item {
  uint64_t split = 0;
  event value;
};

/// A source of `items`, one per `produce`, each after `begin_split` of its split (every split
/// begins before the first item, as a Kafka source's partitions do); it ends each split after
/// the split's last item if `end_splits`. When it ran out it ends the stream if `bounded`, else
/// emits `repeated` (if any) every 5 ms until the job is cancelled.
class split_source {
public:
  using output_type = event;

  split_source(std::vector<split_item> items, bool bounded, bool end_splits = false,
               std::optional<split_item> repeated = std::nullopt)
    : items_(std::move(items)), bounded_(bounded), end_splits_(end_splits), repeated_(repeated) {}

  [[nodiscard]] bool bounded() const { return bounded_; }

  source_step produce(source_context<event>& ctx, size_t) {
    if (next_ == 0) {
      for (const auto& item : items_)
        ctx.begin_split(item.split);
    }
    if (next_ == items_.size()) {
      if (bounded_)
        return source_step::done();
      if (repeated_) {
        ctx.begin_split(repeated_->split);
        ctx.emit(event{repeated_->value}, 0);
      }
      return source_step::wait(5ms);
    }
    const auto& item = items_[next_++];
    ctx.begin_split(item.split);
    ctx.emit(event{item.value}, 0);
    bool last_of_split =
      std::none_of(items_.begin() + static_cast<std::ptrdiff_t>(next_), items_.end(),
                   [&](const split_item& i) { return i.split == item.split; });
    if (end_splits_ && last_of_split)
      ctx.end_split(item.split);
    return source_step::more();
  }

private:
  std::vector<split_item> items_;
  bool bounded_;
  bool end_splits_;
  std::optional<split_item> repeated_;
  size_t next_ = 0;
};

/// Split 1 runs a second behind split 0, alternating record by record.
std::vector<split_item> one_split_behind() {
  std::vector<split_item> items;
  for (timestamp t = 0; t < 50; t += 5) {
    items.push_back({0, {"a", 1000 + t}});
    items.push_back({1, {"b", t}});
  }
  return items;
}

struct window_outputs {
  window_counts counts;
  std::vector<event> late;
};

/// Counts per key in tumbling windows of 10 ms, with late records apart; batches of one, so a
/// watermark follows each record.
template <class Stream>
window_outputs count_windows(pipeline& p, Stream events) {
  window_outputs out;
  auto windows = events.key_by(&event::first)
                   .window(tumbling_window{10ms})
                   .with_late_records()
                   .aggregate(count_function<event>{});
  windows.sink(collect(out.counts));
  windows.late_records().sink(collect(out.late));
  auto config = test::small_batches();
  config.batch_size = 1;
  runtime rt{config};
  auto error = rt.run(p);
  INFO(describe(error));
  REQUIRE_FALSE(error);
  return out;
}

} // namespace

TEST_CASE("a split behind the others is on time: each split has its own watermark") {
  pipeline p{"per_split"};
  auto out = count_windows(p, p.source(split_source{one_split_behind(), true},
                                       monotonous_timestamps().with_timestamps(time_of_event)));
  CHECK(out.late.empty());
  std::vector<count> expected;
  for (timestamp start = 0; start < 50; start += 10) {
    expected.emplace_back("a", 1000 + start, 1010 + start, 2);
    expected.emplace_back("b", start, start + 10, 2);
  }
  std::sort(expected.begin(), expected.end());
  CHECK(counts_of(out.counts) == expected);
}

TEST_CASE("one watermark over all splits makes the split behind late") {
  // The contrast to the test above: assign_watermarks behind the source sees one stream.
  pipeline p{"one_watermark"};
  auto out =
    count_windows(p, p.source(split_source{one_split_behind(), true})
                       .assign_watermarks(monotonous_timestamps().with_timestamps(time_of_event)));
  CHECK(out.late.size() == 10);
}

TEST_CASE("a split that ended no longer holds the watermark back") {
  // Split 0 ends at 5; split 1 alone then says 199 after 200, so 150 is late. Were split 0
  // still counted, the watermark would stay at 4 and 150 be on time.
  std::vector<split_item> items{
    {0, {"a", 0}}, {0, {"a", 5}}, {1, {"b", 100}}, {1, {"b", 200}}, {1, {"b", 150}}};
  for (bool end_splits : {true, false}) {
    INFO((end_splits ? "split 0 ends" : "split 0 does not say it ends"));
    pipeline p{"ended_split"};
    auto out = count_windows(p, p.source(split_source{items, true, end_splits},
                                         monotonous_timestamps().with_timestamps(time_of_event)));
    if (end_splits)
      CHECK(out.late == std::vector<event>{{"b", 150}});
    else
      CHECK(out.late.empty());
  }
}

namespace {

/// Split 1 at 0, then silent; split 0 at 1, 2, then 25 again and again.
split_source split_then_silent() {
  return split_source{
    {{1, {"b", 0}}, {0, {"a", 1}}, {0, {"a", 2}}}, false, false, split_item{0, {"a", 25}}};
}

/// Runs `events` -> tumbling windows of 10 ms until [0, 10) of "a" fired or `patience` passed.
/// Returns whether it fired before the job was cancelled.
template <class Stream>
bool fires_while_running(pipeline& p, Stream events, std::chrono::milliseconds patience) {
  std::mutex mutex;
  window_counts fired;
  events.key_by(&event::first)
    .window(tumbling_window{10ms})
    .aggregate(count_function<event>{})
    .peek([&](const window_result<std::string, int64_t>& r) {
      std::lock_guard lock{mutex};
      fired.push_back(r);
    })
    .filter([](const auto&) { return false; })
    .sink(print());
  runtime rt{test::small_batches()};
  auto j = rt.start(p);
  REQUIRE(j);
  bool result = test::eventually(
    [&] {
      std::lock_guard lock{mutex};
      return std::any_of(fired.begin(), fired.end(), [](const auto& r) { return r.key == "a"; });
    },
    patience);
  j->cancel();
  (void)j->wait();
  if (result) {
    std::lock_guard lock{mutex};
    CHECK(counts_of(fired) == std::vector<count>{{"a", 0, 10, 2}, {"b", 0, 10, 1}});
  }
  return result;
}

} // namespace

TEST_CASE("splits idle for the strategy's idleness stop holding the watermark back") {
  // Once split 1 is idle, split 0's watermark (24) fires [0, 10).
  pipeline p{"idle_split"};
  auto events =
    p.source(split_then_silent(),
             monotonous_timestamps().with_timestamps(time_of_event).with_idleness(50ms));
  CHECK(fires_while_running(p, events, 30s));
}

TEST_CASE("a silent split that is not declared idle holds the watermark back") {
  pipeline p{"silent_split"};
  auto events =
    p.source(split_then_silent(), monotonous_timestamps().with_timestamps(time_of_event));
  CHECK_FALSE(fires_while_running(p, events, 300ms));
}

TEST_CASE("each Kafka partition is a split of the source's watermark strategy") {
  // Partition 0 runs a second ahead of partition 1; with the strategy's 0 ms delay, a single
  // watermark over both would make partition 1's messages late. The strategy reads the event
  // time from the value, not from the Kafka timestamp.
  test::kafka_mock kafka;
  kafka.create_topic("times", 2);
  for (timestamp t = 0; t < 50; t += 5) {
    kafka.producer().produce("times", 0, "a " + std::to_string(1000 + t), 1);
    kafka.producer().produce("times", 1, "b " + std::to_string(t), 1);
  }
  kafka.producer().flush();
  kafka_source_options options;
  options.topic = "times";
  options.properties = {{"bootstrap.servers", kafka.bootstrap()}, {"group.id", "times"}};
  options.bounded = true;
  auto parse = [](const std::string& line) {
    auto space = line.find(' ');
    return event{line.substr(0, space), std::stoll(line.substr(space + 1))};
  };
  pipeline p{"kafka_splits"};
  auto out =
    count_windows(p, p.source(kafka_source(options),
                              monotonous_timestamps().with_timestamps(
                                [parse](const std::string& line) { return parse(line).second; }))
                       .map(parse));
  CHECK(out.late.empty());
  CHECK(out.counts.size() == 10);
}

TEST_CASE("bad watermark strategies of a source fail the run naming it") {
  auto refused = [](auto strategy) {
    pipeline p{"bad_source_strategy"};
    std::vector<event> out;
    p.source(from_collection<event>({{"a", 1}}), strategy).sink(collect(out));
    runtime rt;
    auto error = rt.run(p);
    REQUIRE(error);
    return describe(error);
  };
  CHECK_THAT(refused(bounded_out_of_orderness(-1ms)),
             Catch::Contains("the watermark strategy of source number 1: the maximum "
                             "out-of-orderness must not be negative (was -1 ms)"));
  CHECK_THAT(refused(monotonous_timestamps().with_idleness(-5ms)),
             Catch::Contains("idleness must not be negative (was -5 ms)"));
}
