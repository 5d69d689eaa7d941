// orders (key, id) and payments (key, id) at out-of-order event times (2 instances each) ->
// key_by -> window join (tumbling, sliding, session) or interval join, inner, left, right and
// full outer -> sink
//
// Every join gives exactly the pairs and lone records a reference computed here gives, at
// parallelism 1, 2 and 4, in streaming and batch mode, after a stop-and-restore with other
// parallelism and after a join instance is killed alone; bad bounds and records without event
// time fail the run with an error naming what was wrong.

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <sstream>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "support/test_support.hpp"

using namespace sluice;
using namespace std::chrono_literals;

namespace {

using event = std::pair<std::string, int64_t>; // (key, id)

/// An order of `i`; keys o0 ... o30.
event order_of(uint64_t i) {
  return {"o" + std::to_string(i % 31), static_cast<int64_t>(i)};
}

/// A payment of `i`; keys o0 ... o36, so keys o31 ... o36 have no order.
event payment_of(uint64_t i) {
  return {"o" + std::to_string((i * 7) % 37), static_cast<int64_t>(i)};
}

constexpr timestamp disorder = 40; // how far event time runs behind its largest value

/// Event times out of order within `disorder`, so no record is late.
timestamp time_of(uint64_t i) {
  return static_cast<timestamp>(i) - static_cast<timestamp>((i * 7919) % disorder);
}

/// A payment's time runs 3 ms after an order's of the same index.
timestamp payment_time_of(uint64_t i) {
  return time_of(i) + 3;
}

/// One result of a join: (key, order id, payment id), -1 for a side without a partner.
using joined = std::tuple<std::string, int64_t, int64_t>;

/// How many times each result came.
using results = std::map<joined, int64_t>;

/// The join function of each kind, giving `joined`.
struct join_functions {
  joined operator()(const event& a, const event& b) const { return {a.first, a.second, b.second}; }
  joined operator()(const event& a, const event* b) const {
    return {a.first, a.second, b ? b->second : -1};
  }
  joined operator()(const event* a, const event& b) const {
    return {b.first, a ? a->second : -1, b.second};
  }
  joined operator()(const event* a, const event* b) const {
    return {a ? a->first : b->first, a ? a->second : -1, b ? b->second : -1};
  }
};

/// The join of kind `kind` of `orders` and `payments` as `join(orders, payments)` builds it.
template <class Join>
auto join_of(join_kind kind, Join join_builder) {
  return [kind, join_builder](auto orders, auto payments, uint32_t parallelism) {
    auto joined_streams = join_builder(orders, payments);
    auto result = [&] {
      switch (kind) {
        case join_kind::inner:
          return joined_streams.join(
            [](const event& a, const event& b) { return join_functions{}(a, b); });
        case join_kind::left:
          return joined_streams.left_join(
            [](const event& a, const event* b) { return join_functions{}(a, b); });
        case join_kind::right:
          return joined_streams.right_join(
            [](const event* a, const event& b) { return join_functions{}(a, b); });
        default:
          return joined_streams.full_join(
            [](const event* a, const event* b) { return join_functions{}(a, b); });
      }
    }();
    return result.parallelism(parallelism).name("join");
  };
}

/// Two generator sources (2 instances each) of `events` orders and payments, their watermarks
/// `disorder` behind, keyed by key.
auto keyed_sources(pipeline& p, uint64_t events, double rate = 0,
                   const supervision& supervise = supervision::operator_default()) {
  auto orders =
    p.source(generate<event>(order_of, {.count = events, .rate = rate, .out_of_orderness = 40ms},
                             [](uint64_t i, const event&) { return time_of(i); }));
  orders.parallelism(2).name("orders").supervision(supervise);
  auto payments =
    p.source(generate<event>(payment_of, {.count = events, .rate = rate, .out_of_orderness = 40ms},
                             [](uint64_t i, const event&) { return payment_time_of(i); }));
  payments.parallelism(2).name("payments").supervision(supervise);
  return std::pair{orders.key_by(&event::first), payments.key_by(&event::first)};
}

/// Runs the join `join(orders, payments, parallelism)` over `events` events of each in `mode`.
template <class Join>
results run_join(uint64_t events, uint32_t parallelism, execution_mode mode, Join join) {
  std::vector<joined> out;
  pipeline p{"joins"};
  auto [orders, payments] = keyed_sources(p, events);
  join(orders, payments, parallelism).sink(collect(out));
  auto config = test::small_batches();
  config.mode = mode;
  runtime rt{config};
  auto error = rt.run(p);
  INFO(describe(error));
  REQUIRE_FALSE(error);
  results got;
  for (const auto& r : out)
    ++got[r];
  return got;
}

struct timed_event {
  event value;
  timestamp time;
};

std::vector<timed_event> orders_up_to(uint64_t events) {
  std::vector<timed_event> result;
  for (uint64_t i = 0; i < events; ++i)
    result.push_back({order_of(i), time_of(i)});
  return result;
}

std::vector<timed_event> payments_up_to(uint64_t events) {
  std::vector<timed_event> result;
  for (uint64_t i = 0; i < events; ++i)
    result.push_back({payment_of(i), payment_time_of(i)});
  return result;
}

/// Adds the join of kind `kind` of `orders` and `payments` (of one key and window, or of one
/// key for an interval join, where `meet(a, b)` says which pairs join) to `into`.
template <class Meet>
void join_reference(join_kind kind, const std::vector<const timed_event*>& orders,
                    const std::vector<const timed_event*>& payments, Meet meet, results& into) {
  std::vector<bool> paid(payments.size());
  for (const auto* a : orders) {
    bool met = false;
    for (size_t j = 0; j < payments.size(); ++j)
      if (meet(*a, *payments[j])) {
        ++into[{a->value.first, a->value.second, payments[j]->value.second}];
        met = paid[j] = true;
      }
    if (!met && (kind == join_kind::left || kind == join_kind::full))
      ++into[{a->value.first, a->value.second, -1}];
  }
  for (size_t j = 0; j < payments.size(); ++j)
    if (!paid[j] && (kind == join_kind::right || kind == join_kind::full))
      ++into[{payments[j]->value.first, -1, payments[j]->value.second}];
}

/// The window join of kind `kind` of `events` events each, windows given by `assign(time,
/// each)`: per key and window, every order with every payment, and the lone records.
template <class Assign>
results window_reference(uint64_t events, join_kind kind, Assign assign) {
  auto orders = orders_up_to(events);
  auto payments = payments_up_to(events);
  using window_key = std::tuple<std::string, timestamp, timestamp>;
  std::map<window_key, std::pair<std::vector<const timed_event*>, std::vector<const timed_event*>>>
    windows;
  for (const auto& o : orders)
    assign(o.time, [&](time_window w) {
      windows[{o.value.first, w.start, w.end}].first.push_back(&o);
    });
  for (const auto& pay : payments)
    assign(pay.time, [&](time_window w) {
      windows[{pay.value.first, w.start, w.end}].second.push_back(&pay);
    });
  results result;
  for (const auto& [w, sides] : windows)
    join_reference(
      kind, sides.first, sides.second, [](auto&, auto&) { return true; }, result);
  return result;
}

/// The session windows of `gap` over the orders and payments of each key together, as lists of
/// the times each covers: [start, end).
template <class Each>
void sessions_of(const std::vector<timed_event>& orders, const std::vector<timed_event>& payments,
                 timestamp gap, Each each) {
  std::map<std::string, std::vector<timestamp>> times;
  for (const auto& e : orders)
    times[e.value.first].push_back(e.time);
  for (const auto& e : payments)
    times[e.value.first].push_back(e.time);
  for (auto& [key, ts] : times) {
    std::sort(ts.begin(), ts.end());
    timestamp start = ts.front();
    timestamp last = start;
    for (auto t : ts) {
      if (t > last + gap) {
        each(key, time_window{start, last + gap});
        start = t;
      }
      last = t;
    }
    each(key, time_window{start, last + gap});
  }
}

/// The session window join of kind `kind`: sessions over both streams' records of a key.
results session_reference(uint64_t events, join_kind kind, timestamp gap) {
  auto orders = orders_up_to(events);
  auto payments = payments_up_to(events);
  results result;
  sessions_of(orders, payments, gap, [&](const std::string& key, time_window w) {
    std::vector<const timed_event*> a, b;
    for (const auto& o : orders)
      if (o.value.first == key && o.time >= w.start && o.time < w.end)
        a.push_back(&o);
    for (const auto& pay : payments)
      if (pay.value.first == key && pay.time >= w.start && pay.time < w.end)
        b.push_back(&pay);
    join_reference(
      kind, a, b, [](auto&, auto&) { return true; }, result);
  });
  return result;
}

/// The interval join of kind `kind`: an order at t meets each payment of its key in
/// [t + lower, t + upper].
results interval_reference(uint64_t events, join_kind kind, timestamp lower, timestamp upper) {
  auto orders = orders_up_to(events);
  auto payments = payments_up_to(events);
  std::map<std::string, std::pair<std::vector<const timed_event*>, std::vector<const timed_event*>>>
    by_key;
  for (const auto& o : orders)
    by_key[o.value.first].first.push_back(&o);
  for (const auto& pay : payments)
    by_key[pay.value.first].second.push_back(&pay);
  results result;
  for (const auto& [key, sides] : by_key)
    join_reference(
      kind, sides.first, sides.second,
      [&](const timed_event& a, const timed_event& b) {
        return a.time + lower <= b.time && b.time <= a.time + upper;
      },
      result);
  return result;
}

const char* name_of(join_kind kind) {
  switch (kind) {
    case join_kind::inner:
      return "inner";
    case join_kind::left:
      return "left";
    case join_kind::right:
      return "right";
    default:
      return "full";
  }
}

constexpr join_kind all_kinds[] = {join_kind::inner, join_kind::left, join_kind::right,
                                   join_kind::full};

template <class Join>
void check_everywhere(uint64_t events, const results& expected, Join join) {
  for (auto mode : {execution_mode::streaming, execution_mode::batch})
    for (uint32_t parallelism : {1u, 2u, 4u}) {
      INFO("parallelism " << parallelism << (mode == execution_mode::batch ? ", batch" : ""));
      auto got = run_join(events, parallelism, mode, join);
      CHECK(got.size() == expected.size());
      bool identical = got == expected; // not printed: thousands of results
      CHECK(identical);
    }
}

} // namespace

TEST_CASE("a tumbling window join gives every pair of a key's window, of each join kind") {
  constexpr uint64_t events = 6'000;
  tumbling_window windows{100ms};
  for (auto kind : all_kinds) {
    INFO(name_of(kind) << " join");
    auto expected =
      window_reference(events, kind, [&](timestamp t, auto each) { windows.assign(0, t, each); });
    check_everywhere(events, expected, join_of(kind, [&](auto orders, auto payments) {
                       return orders.window_join(payments, windows);
                     }));
  }
}

TEST_CASE("a sliding window join gives each pair once per window it shares") {
  constexpr uint64_t events = 3'000;
  sliding_window windows{250ms, 100ms};
  for (auto kind : {join_kind::inner, join_kind::full}) {
    INFO(name_of(kind) << " join");
    auto expected =
      window_reference(events, kind, [&](timestamp t, auto each) { windows.assign(0, t, each); });
    check_everywhere(events, expected, join_of(kind, [&](auto orders, auto payments) {
                       return orders.window_join(payments, windows);
                     }));
  }
}

TEST_CASE("a session window join joins the records of sessions over both streams") {
  constexpr uint64_t events = 6'000;
  // Keys recur every 31 or 37 ms: a gap of 45 ms joins most records of a key, jitter splits some.
  for (auto kind : {join_kind::inner, join_kind::left, join_kind::full}) {
    INFO(name_of(kind) << " join");
    check_everywhere(events, session_reference(events, kind, 45),
                     join_of(kind, [&](auto orders, auto payments) {
                       return orders.window_join(payments, session_window{45ms});
                     }));
  }
}

TEST_CASE("an interval join gives every pair within the bounds, of each join kind") {
  constexpr uint64_t events = 6'000;
  for (auto kind : all_kinds) {
    INFO(name_of(kind) << " join");
    check_everywhere(events, interval_reference(events, kind, -20, 35),
                     join_of(kind, [&](auto orders, auto payments) {
                       return orders.interval_join(payments, -20ms, 35ms);
                     }));
  }
}

TEST_CASE("an interval join with bounds on one side of zero joins only that way") {
  constexpr uint64_t events = 4'000;
  for (auto [lower, upper] : {std::pair{5, 60}, std::pair{-60, -5}, std::pair{0, 0}}) {
    INFO("between " << lower << " and " << upper << " ms");
    check_everywhere(events, interval_reference(events, join_kind::full, lower, upper),
                     join_of(join_kind::full, [&](auto orders, auto payments) {
                       return orders.interval_join(payments, std::chrono::milliseconds{lower},
                                                   std::chrono::milliseconds{upper});
                     }));
  }
}

namespace {

/// The join `join(orders, payments, parallelism)` of `events` events each at `rate` records/s
/// (0: full speed), as lines "key order payment", at `parallelism`, into `sink`.
template <class Join, class Sink>
void join_job(pipeline& p, uint64_t events, double rate, uint32_t parallelism, Join join, Sink sink,
              const supervision& tolerant = supervision::operator_default()) {
  auto [orders, payments] = keyed_sources(p, events, rate, tolerant);
  join(orders, payments, parallelism)
    .supervision(tolerant)
    .map([](const joined& j) {
      return std::get<0>(j) + " " + std::to_string(std::get<1>(j)) + " "
             + std::to_string(std::get<2>(j));
    })
    .name("format")
    .parallelism(parallelism)
    .sink(std::move(sink))
    .name("out");
}

/// The results the lines of join_job say.
results parse(const std::vector<std::string>& lines) {
  results got;
  for (const auto& line : lines) {
    std::istringstream fields{line};
    joined j;
    fields >> std::get<0>(j) >> std::get<1>(j) >> std::get<2>(j);
    ++got[j];
  }
  return got;
}

void check_results(const results& got, const results& expected) {
  CHECK(got.size() == expected.size());
  bool identical = got == expected; // not printed: thousands of results
  CHECK(identical);
}

/// Runs the join job into a file until checkpoint 3, rate limited, at `parallelism`, stops it
/// there as by a crash, restores it at `restored_parallelism` and runs it to its end: every
/// result once.
template <class Join>
void check_restored(uint64_t events, const results& expected, Join join, uint32_t parallelism,
                    uint32_t restored_parallelism) {
  test::temp_dir dir;
  auto error = test::run_stopped_and_restored(
    "join-restore", test::recovery_config(dir),
    [&](pipeline& p, double rate) {
      join_job(p, events, rate, rate > 0 ? parallelism : restored_parallelism, join,
               write_file(dir.file("out.txt")));
    },
    10'000);
  INFO(describe(error));
  REQUIRE_FALSE(error);
  check_results(parse(test::sink_output_lines(dir, "out.txt")), expected);
}

/// Runs the join job, killing `targets` one at a time once two checkpoints completed: every
/// result once.
template <class Join>
void check_after_kills(uint64_t events, const results& expected, Join join,
                       const std::vector<std::pair<std::string, uint32_t>>& targets) {
  test::temp_dir state;
  std::vector<std::string> out;
  auto error = test::run_killing(
    "join-kill", state,
    [&](pipeline& p, const supervision& tolerant) {
      join_job(p, events, 30'000, 2, join, collect(out), tolerant);
    },
    targets);
  INFO(describe(error));
  REQUIRE_FALSE(error);
  check_results(parse(out), expected);
}

} // namespace

TEST_CASE(
  "a window join and an interval join stopped as by a crash and restored with other "
  "parallelism emit every result once") {
  constexpr uint64_t events = 20'000;
  SECTION("session window, full join, 2 -> 3 instances") {
    check_restored(events, session_reference(events, join_kind::full, 45),
                   join_of(join_kind::full,
                           [](auto orders, auto payments) {
                             return orders.window_join(payments, session_window{45ms});
                           }),
                   2, 3);
  }
  SECTION("interval join, left join, 3 -> 1 instance") {
    check_restored(events, interval_reference(events, join_kind::left, -20, 35),
                   join_of(join_kind::left,
                           [](auto orders, auto payments) {
                             return orders.interval_join(payments, -20ms, 35ms);
                           }),
                   3, 1);
  }
}

TEST_CASE("a killed join instance restarts alone and every result stays exact") {
  constexpr uint64_t events = 40'000;
  std::vector<std::pair<std::string, uint32_t>> targets{{"join", 0}, {"join", 1},     {"orders", 0},
                                                        {"join", 1}, {"payments", 1}, {"join", 0}};
  SECTION("tumbling window, right join") {
    tumbling_window windows{100ms};
    check_after_kills(
      events,
      window_reference(events, join_kind::right,
                       [&](timestamp t, auto each) { windows.assign(0, t, each); }),
      join_of(join_kind::right,
              [&](auto orders, auto payments) { return orders.window_join(payments, windows); }),
      targets);
  }
  SECTION("interval join, full join") {
    check_after_kills(events, interval_reference(events, join_kind::full, -20, 35),
                      join_of(join_kind::full,
                              [](auto orders, auto payments) {
                                return orders.interval_join(payments, -20ms, 35ms);
                              }),
                      targets);
  }
}

TEST_CASE("bad join bounds and lateness fail the run with an error naming the join") {
  auto refused = [](auto join) {
    std::vector<joined> out;
    pipeline p{"bad-joins"};
    auto [orders, payments] = keyed_sources(p, 10);
    join(orders, payments)
      .join([](const event& a, const event& b) { return join_functions{}(a, b); })
      .sink(collect(out));
    runtime rt{test::small_batches()};
    auto error = rt.run(p);
    REQUIRE(error);
    CHECK(error.code() == static_cast<uint8_t>(errc::configuration));
    return describe(error);
  };
  auto bounds =
    refused([](auto orders, auto payments) { return orders.interval_join(payments, 10ms, -10ms); });
  CHECK_THAT(bounds,
             Catch::Contains("interval_join of 'orders") && Catch::Contains("and 'payments")
               && Catch::Contains("the lower bound (10 ms) is above the upper bound (-10 ms)"));
  auto size = refused(
    [](auto orders, auto payments) { return orders.window_join(payments, tumbling_window{0ms}); });
  CHECK_THAT(size, Catch::Contains("window_join of 'orders")
                     && Catch::Contains("tumbling window size must be positive"));
  auto lateness = refused([](auto orders, auto payments) {
    return orders.window_join(payments, tumbling_window{1s}).allowed_lateness(-1ms);
  });
  CHECK_THAT(lateness, Catch::Contains("allowed lateness must not be negative"));
}
