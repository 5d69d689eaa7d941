// events (key, amount) at out-of-order event times (2 instances) -> key_by -> window (tumbling,
// sliding or session) -> count, sum or list per key and window -> sink
//
// The same windows at parallelism 1, 2 and 4, in streaming and in batch mode, after a
// stop-and-restore with other parallelism and after a window instance is killed alone, equal to
// a reference computed here; the same with the watermark made per split of the source by a
// strategy given to it, restored with fewer source instances and with a source instance killed
// alone; bad window parameters fail the run with an error naming the operator.

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <span>
#include <sstream>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "support/amount_events.hpp"
#include "support/exact_counts.hpp"
#include "support/test_support.hpp"

using namespace sluice;
using namespace std::chrono_literals;

namespace {

using event = test::amount_event;
using test::amount_event_of;
using test::amount_time_of;
using test::sum_amounts;

using totals = std::map<std::tuple<std::string, timestamp, timestamp>, int64_t>;

/// Runs `events` events through `windowing(keyed stream, parallelism)` in `mode`; returns the
/// sum per key and window.
template <class Windowing>
totals run_windows(uint64_t events, uint32_t parallelism, execution_mode mode,
                   Windowing windowing) {
  std::vector<window_result<std::string, int64_t>> out;
  pipeline p{"windows"};
  auto keyed =
    p.source(generate<event>(amount_event_of, {.count = events, .out_of_orderness = 40ms},
                             [](uint64_t i, const event&) { return amount_time_of(i); }))
      .parallelism(2)
      .name("events")
      .key_by(&event::first);
  windowing(keyed, parallelism).sink(collect(out));
  auto config = test::small_batches();
  config.mode = mode;
  runtime rt{config};
  auto error = rt.run(p);
  INFO(describe(error));
  REQUIRE_FALSE(error);
  totals result;
  for (const auto& r : out) {
    auto [i, fresh] = result.emplace(std::tuple{r.key, r.window.start, r.window.end}, r.value);
    CHECK(fresh); // each window fires once
  }
  return result;
}

/// The sums per key and window that `assign(time, each)` gives each event.
template <class Assign>
totals reference(uint64_t events, Assign assign) {
  totals result;
  for (uint64_t i = 0; i < events; ++i) {
    auto e = amount_event_of(i);
    assign(amount_time_of(i), [&](time_window w) {
      result[{e.first, w.start, w.end}] += e.second;
    });
  }
  return result;
}

/// Session windows of `gap` per key, merged as a reference: the sorted times of a key split
/// where two are `gap` or more apart.
totals session_reference(uint64_t events, timestamp gap) {
  std::map<std::string, std::map<timestamp, int64_t>> by_key;
  for (uint64_t i = 0; i < events; ++i) {
    auto e = amount_event_of(i);
    by_key[e.first][amount_time_of(i)] += e.second;
  }
  totals result;
  for (const auto& [key, times] : by_key) {
    timestamp start = times.begin()->first;
    timestamp last = start;
    int64_t sum = 0;
    for (const auto& [t, amount] : times) {
      if (t > last + gap) {
        result[{key, start, last + gap}] = sum;
        start = t;
        sum = 0;
      }
      last = t;
      sum += amount;
    }
    result[{key, start, last + gap}] = sum;
  }
  return result;
}

template <class Windowing>
void check_everywhere(uint64_t events, const totals& expected, Windowing windowing) {
  for (auto mode : {execution_mode::streaming, execution_mode::batch})
    for (uint32_t parallelism : {1u, 2u, 4u}) {
      INFO("parallelism " << parallelism << (mode == execution_mode::batch ? ", batch" : ""));
      auto got = run_windows(events, parallelism, mode, windowing);
      CHECK(got.size() == expected.size());
      bool identical = got == expected; // not printed: thousands of windows
      CHECK(identical);
    }
}

/// Sessions of 120 ms of `events` summed per key, as lines "key start end sum", with the
/// window at `parallelism`, into `sink`.
template <class Sink>
void sum_sessions(stream<event> events, uint32_t parallelism, Sink sink,
                  const supervision& tolerant) {
  events.key_by(&event::first)
    .window(session_window{120ms})
    .aggregate(sum_amounts{})
    .name("window")
    .parallelism(parallelism)
    .supervision(tolerant)
    .map([](const window_result<std::string, int64_t>& r) {
      return r.key + " " + std::to_string(r.window.start) + " " + std::to_string(r.window.end) + " "
             + std::to_string(r.value);
    })
    .name("format")
    .parallelism(parallelism)
    .sink(std::move(sink))
    .name("out");
}

/// `events` events at `rate` records/s (0: full speed) from 2 generator instances, whose
/// watermark trails the largest event time by 40 ms -> sum_sessions.
template <class Sink>
void session_job(pipeline& p, uint64_t events, double rate, uint32_t parallelism, Sink sink,
                 const supervision& tolerant = supervision::operator_default()) {
  auto source = p.source(
    generate<event>(amount_event_of, {.count = events, .rate = rate, .out_of_orderness = 40ms},
                    [](uint64_t i, const event&) { return amount_time_of(i); }));
  source.parallelism(2).name("events").supervision(tolerant);
  sum_sessions(source, parallelism, std::move(sink), tolerant);
}

/// As session_job, but the watermark is the strategy's given to the source, per split of it:
/// with `source_parallelism` instances, each starting as a split of its own.
template <class Sink>
void split_session_job(pipeline& p, uint64_t events, double rate, uint32_t source_parallelism,
                       uint32_t parallelism, Sink sink,
                       const supervision& tolerant = supervision::operator_default()) {
  auto source =
    p.source(generate<event>(amount_event_of, {.count = events, .rate = rate},
                             [](uint64_t i, const event&) { return amount_time_of(i); }),
             bounded_out_of_orderness(40ms));
  source.parallelism(source_parallelism).name("events").supervision(tolerant);
  sum_sessions(source, parallelism, std::move(sink), tolerant);
}

/// Every session of the reference exactly once, with its sum.
void check_sessions(const std::vector<std::string>& lines, uint64_t events) {
  totals seen;
  size_t repeated = 0;
  for (const auto& line : lines) {
    std::istringstream fields{line};
    std::string key;
    timestamp start = 0, end = 0;
    int64_t sum = 0;
    fields >> key >> start >> end >> sum;
    if (!seen.emplace(std::tuple{key, start, end}, sum).second)
      ++repeated;
  }
  CHECK(repeated == 0);
  auto expected = session_reference(events, 120);
  CHECK(seen.size() == expected.size());
  bool identical = seen == expected; // not printed: thousands of windows
  CHECK(identical);
}

} // namespace

TEST_CASE("tumbling windows give the same sums at any parallelism, in streaming and batch mode") {
  constexpr uint64_t events = 20'000;
  tumbling_window windows{100ms};
  check_everywhere(events,
                   reference(events, [&](timestamp t, auto each) { windows.assign(0, t, each); }),
                   [&](auto& keyed, uint32_t parallelism) {
                     return keyed.window(windows).aggregate(sum_amounts{}).parallelism(parallelism);
                   });
}

TEST_CASE("sliding windows give the same sums at any parallelism, in streaming and batch mode") {
  constexpr uint64_t events = 10'000;
  sliding_window windows{250ms, 100ms}; // the size is not a multiple of the slide
  check_everywhere(
    events, reference(events, [&](timestamp t, auto each) { windows.assign(0, t, each); }),
    [&](auto& keyed, uint32_t parallelism) {
      using summed = window_result<std::string, event>;
      return keyed.window(windows)
        .reduce([](const event& a, const event& b) {
          return event{a.first, a.second + b.second};
        })
        .parallelism(parallelism)
        .map([](const summed& r) {
          return window_result<std::string, int64_t>{r.key, r.window, r.value.second};
        })
        .parallelism(parallelism);
    });
}

TEST_CASE("session windows give the same sums at any parallelism, in streaming and batch mode") {
  constexpr uint64_t events = 20'000;
  // Keys recur every 97 ms: a gap of 120 ms joins most records of a key, and jitter splits some.
  check_everywhere(events, session_reference(events, 120), [](auto& keyed, uint32_t parallelism) {
    return keyed.window(session_window{120ms}).aggregate(sum_amounts{}).parallelism(parallelism);
  });
}

TEST_CASE("a full window function sees every record of its window") {
  constexpr uint64_t events = 5'000;
  tumbling_window windows{200ms};
  check_everywhere(
    events, reference(events, [&](timestamp t, auto each) { windows.assign(0, t, each); }),
    [&](auto& keyed, uint32_t parallelism) {
      using result = window_result<std::string, int64_t>;
      return keyed.window(windows)
        .template process<result>([](const std::string& key, const time_window& w,
                                     std::span<const event> values, emitter<result>& out) {
          int64_t sum = 0;
          for (const auto& e : values)
            sum += e.second;
          out({key, w, sum});
        })
        .parallelism(parallelism);
    });
}

TEST_CASE(
  "a window of size zero, a negative slide or gap, or lateness in processing time is "
  "refused naming the operator") {
  auto refused = [](auto windowing) {
    std::vector<window_result<std::string, int64_t>> out;
    pipeline p{"bad-windows"};
    auto keyed =
      p.source(from_collection(std::vector<event>{{"a", 1}})).name("events").key_by(&event::first);
    windowing(keyed).sink(collect(out));
    runtime rt{test::small_batches()};
    auto error = rt.run(p);
    REQUIRE(error);
    CHECK(error.code() == static_cast<uint8_t>(errc::configuration));
    return describe(error);
  };
  auto zero =
    refused([](auto& k) { return k.window(tumbling_window{0ms}).aggregate(sum_amounts{}); });
  CHECK_THAT(zero, Catch::Contains("window on the output of 'events'")
                     && Catch::Contains("tumbling window size must be positive"));
  auto slide = refused([](auto& k) {
    return k.window(sliding_window{1s, -1s}).aggregate(sum_amounts{});
  });
  CHECK_THAT(slide, Catch::Contains("sliding window slide must be positive"));
  auto gap =
    refused([](auto& k) { return k.window(session_window{0ms}).aggregate(sum_amounts{}); });
  CHECK_THAT(gap, Catch::Contains("session window gap must be positive"));
  auto lateness = refused([](auto& k) {
    return k.window(tumbling_window{1s}.in_processing_time())
      .allowed_lateness(5s)
      .aggregate(sum_amounts{});
  });
  CHECK_THAT(lateness, Catch::Contains("allowed lateness applies to event-time windows"));
  auto count = refused([](auto& k) { return k.count_window(0).aggregate(sum_amounts{}); });
  CHECK_THAT(count, Catch::Contains("count_window on the output of 'events'"));
}

namespace {

/// Runs the sessions job `make(p, rate, sink)` builds into a file until checkpoint 3, rate
/// limited, stops it there as by a crash, then restores the job `restored(p, sink)` builds and
/// runs it to its end: every session once.
template <class Make, class MakeRestored>
void check_sessions_restored(uint64_t events, Make make, MakeRestored restored) {
  test::temp_dir dir;
  auto error = test::run_stopped_and_restored(
    "sessions-restore", test::recovery_config(dir),
    [&](pipeline& p, double rate) {
      if (rate > 0)
        make(p, write_file(dir.file("out.txt")));
      else
        restored(p, write_file(dir.file("out.txt")));
    },
    10'000);
  INFO(describe(error));
  REQUIRE_FALSE(error);
  check_sessions(test::sink_output_lines(dir, "out.txt"), events);
}

/// Runs the sessions job `make(p, sink, supervision)` builds, killing `targets` one at a time
/// once two checkpoints completed: every session once.
template <class Make>
void check_sessions_after_kills(uint64_t events, Make make,
                                const std::vector<std::pair<std::string, uint32_t>>& targets) {
  test::temp_dir state;
  std::vector<std::string> out;
  auto error = test::run_killing(
    "sessions-kill", state,
    [&](pipeline& p, const supervision& tolerant) { make(p, collect(out), tolerant); }, targets);
  INFO(describe(error));
  REQUIRE_FALSE(error);
  check_sessions(out, events);
}

} // namespace

TEST_CASE(
  "session windows stopped as by a crash and restored with other parallelism emit every "
  "session once") {
  constexpr uint64_t events = 30'000;
  check_sessions_restored(
    events, [](pipeline& p, auto sink) { session_job(p, events, 10'000, 2, std::move(sink)); },
    [](pipeline& p, auto sink) { session_job(p, events, 0, 3, std::move(sink)); });
}

TEST_CASE("a killed window instance restarts alone and every session stays exact") {
  constexpr uint64_t events = 60'000;
  check_sessions_after_kills(
    events,
    [](pipeline& p, auto sink, const supervision& tolerant) {
      session_job(p, events, 30'000, 2, std::move(sink), tolerant);
    },
    {{"window", 0}, {"window", 1}, {"format", 0}, {"window", 1}, {"window", 0}});
}

TEST_CASE(
  "sessions over a source's split watermarks stay exact when the job is restored with "
  "fewer source instances, each then reading several splits") {
  constexpr uint64_t events = 30'000;
  check_sessions_restored(
    events,
    [](pipeline& p, auto sink) { split_session_job(p, events, 10'000, 3, 2, std::move(sink)); },
    [](pipeline& p, auto sink) { split_session_job(p, events, 0, 1, 2, std::move(sink)); });
}

TEST_CASE("a source with split watermarks killed alone restarts and every session stays exact") {
  constexpr uint64_t events = 60'000;
  check_sessions_after_kills(
    events,
    [](pipeline& p, auto sink, const supervision& tolerant) {
      split_session_job(p, events, 30'000, 2, 2, std::move(sink), tolerant);
    },
    {{"events", 0}, {"window", 1}, {"events", 1}, {"events", 0}, {"window", 0}});
}

TEST_CASE("window_all sums every record of a window in one window instance") {
  constexpr uint64_t events = 10'000;
  std::vector<window_result<all_records, int64_t>> out;
  pipeline p{"window-all"};
  p.source(generate<event>(amount_event_of, {.count = events, .out_of_orderness = 40ms},
                           [](uint64_t i, const event&) { return amount_time_of(i); }))
    .parallelism(2)
    .window_all(tumbling_window{100ms})
    .aggregate(sum_amounts{})
    .sink(collect(out));
  runtime rt{test::small_batches(2)};
  REQUIRE_FALSE(rt.run(p));
  std::map<time_window, int64_t> expected;
  tumbling_window windows{100ms};
  for (uint64_t i = 0; i < events; ++i)
    windows.assign(0, amount_time_of(i),
                   [&](time_window w) { expected[w] += amount_event_of(i).second; });
  std::map<time_window, int64_t> got;
  for (const auto& r : out)
    CHECK(got.emplace(r.window, r.value).second);
  CHECK(got == expected);
}
