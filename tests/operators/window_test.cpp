// (user, amount) --> window(tumbling | sliding | session) --> count or sum per user and window

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "sluice/operators/window.hpp"
#include "sluice/testing/operator_harness.hpp"
#include "sluice/windows/event_time_trigger.hpp"
#include "sluice/windows/session_window.hpp"
#include "sluice/windows/sliding_window.hpp"
#include "sluice/windows/tumbling_window.hpp"
#include "sluice/windows/window_contents.hpp"
#include "sluice/windows/window_context.hpp"

using namespace sluice;
using namespace std::chrono_literals;
using sluice::testing::operator_harness;

namespace {

using event = std::pair<std::string, int64_t>; // (user, amount)

/// Counts the records of a window.
struct count_records {
  using input_type = event;
  using accumulator_type = uint64_t;
  using result_type = uint64_t;
  uint64_t create() const { return 0; }
  void add(uint64_t& acc, const event&) const { ++acc; }
  uint64_t result(uint64_t acc) const { return acc; }
  void merge(uint64_t& acc, uint64_t&& other) const { acc += other; }
};

auto user_of = [](const event& e) -> const std::string& { return e.first; };
using user_key = decltype(user_of);
using count_contents = detail::aggregate_contents<std::string, count_records>;
using result = window_result<std::string, uint64_t>;

template <class Assigner>
using counting_window = op::window<event, user_key, Assigner, event_time_trigger, count_contents>;

template <class Assigner>
counting_window<Assigner> count_by_user(Assigner assigner,
                                        std::chrono::milliseconds lateness = 0ms) {
  return {user_of, std::move(assigner), event_time_trigger{}, count_contents{count_records{}},
          lateness};
}

result counted(std::string user, timestamp start, timestamp end, uint64_t n) {
  return {std::move(user), time_window{start, end}, n};
}

/// A full window function that tells the clocks it fired at: "n@watermark/processing/stamp".
struct tell_clocks {
  void operator()(const std::string&, const time_window&, std::span<const event> events,
                  window_context<std::string>& out) const {
    out(std::to_string(events.size()) + "@" + std::to_string(out.watermark()) + "/"
        + std::to_string(out.current_processing_time()) + "/" + std::to_string(out.current_time()));
  }
};

using clock_telling = detail::element_contents<std::string, event, std::string, tell_clocks>;

template <bool LateOutput>
using clock_telling_window =
  op::window<event, user_key, tumbling_window, event_time_trigger, clock_telling, LateOutput>;

/// The window's results, whether or not its output holds late records too.
template <class Out>
std::vector<std::string> results_of(std::vector<Out> output) {
  if constexpr (std::is_same_v<Out, std::string>) {
    return output;
  } else {
    std::vector<std::string> results;
    for (auto& o : output)
      if (auto* r = std::get_if<0>(&o))
        results.push_back(*r);
    return results;
  }
}

} // namespace

TEST_CASE("a tumbling window fires when the watermark passes its end, stamped with its end") {
  operator_harness<counting_window<tumbling_window>> h{count_by_user(tumbling_window{1min})};
  h.push({"ann", 1}, 0);
  h.push({"bob", 1}, 10'000);
  h.push({"ann", 1}, 59'999);
  h.push({"ann", 1}, 60'000); // on the boundary: the next window
  h.push_watermark(59'998);
  CHECK(h.output().empty());
  h.push_watermark(59'999);
  REQUIRE(h.output().size() == 2);
  CHECK(h.output()[0].time == 59'999);
  auto first = h.take_values();
  std::sort(first.begin(), first.end(), [](auto& a, auto& b) { return a.key < b.key; });
  CHECK(first == std::vector{counted("ann", 0, 60'000, 2), counted("bob", 0, 60'000, 1)});
  h.end_input();
  CHECK(h.take_values() == std::vector{counted("ann", 60'000, 120'000, 1)});
}

TEST_CASE("a record exactly on a window boundary belongs to the window that starts there") {
  operator_harness<counting_window<tumbling_window>> tumbling{count_by_user(tumbling_window{10ms})};
  tumbling.push({"ann", 1}, 0);  // the first millisecond of [0, 10)
  tumbling.push({"ann", 1}, 9);  // its last
  tumbling.push({"ann", 1}, 10); // the first of [10, 20)
  tumbling.push_watermark(9);
  CHECK(tumbling.take_values() == std::vector{counted("ann", 0, 10, 2)});
  tumbling.push_watermark(19);
  CHECK(tumbling.take_values() == std::vector{counted("ann", 10, 20, 1)});

  operator_harness<counting_window<sliding_window>> sliding{
    count_by_user(sliding_window{10ms, 5ms})};
  sliding.push({"ann", 1}, 5); // the start of [5, 15), in [0, 10) as well, not in [-5, 5)
  sliding.push_watermark(9);
  CHECK(sliding.take_values() == std::vector{counted("ann", 0, 10, 1)});
  sliding.push_watermark(19);
  CHECK(sliding.take_values() == std::vector{counted("ann", 5, 15, 1)});
  sliding.end_input();
  CHECK(sliding.output().empty());
}

TEST_CASE("a window counts records out of order within the watermark's bound") {
  operator_harness<counting_window<tumbling_window>> h{count_by_user(tumbling_window{10ms})};
  for (timestamp t : {5, 12, 3, 9, 15, 0, 11})
    h.push({"ann", 1}, t);
  h.push_watermark(9);
  CHECK(h.take_values() == std::vector{counted("ann", 0, 10, 4)});
  h.push({"ann", 1}, 19);
  h.push_watermark(20);
  CHECK(h.take_values() == std::vector{counted("ann", 10, 20, 4)});
}

TEST_CASE("a late record within the allowed lateness fires its window again, updated") {
  operator_harness<counting_window<tumbling_window>> h{count_by_user(tumbling_window{10ms}, 5ms)};
  h.push({"ann", 1}, 1);
  h.push({"ann", 1}, 2);
  h.push_watermark(10);
  CHECK(h.take_values() == std::vector{counted("ann", 0, 10, 2)});
  h.push({"ann", 1}, 3); // late by the watermark, within the lateness: an update
  CHECK(h.take_values() == std::vector{counted("ann", 0, 10, 3)});
  CHECK(h.output().empty());
  h.push_watermark(14); // the end of the lateness: the window's state goes
  CHECK(h.keyed_state<std::string, counting_window<tumbling_window>::entries>("windows", "ann")
        == std::nullopt);
  h.push({"ann", 1}, 4); // beyond the lateness: counted as late, no window
  CHECK(h.output().empty());
  CHECK(h.op().late_records() == 1);
}

TEST_CASE("a window's state is removed once it has fired and its lateness has passed") {
  operator_harness<counting_window<tumbling_window>> h{count_by_user(tumbling_window{10ms})};
  for (int user = 0; user < 100; ++user)
    h.push({"user" + std::to_string(user), 1}, user % 30);
  CHECK(h.state().table<std::string, counting_window<tumbling_window>::entries>("windows")->size()
        == 100);
  h.push_watermark(29);
  CHECK(h.take_values().size() == 300 / 3);
  CHECK(h.state().table<std::string, counting_window<tumbling_window>::entries>("windows")->size()
        == 0);
}

TEST_CASE("sliding windows whose size is not a multiple of the slide count each record in each") {
  sliding_window windows{10ms, 3ms};
  operator_harness<counting_window<sliding_window>> h{count_by_user(windows)};
  std::vector<timestamp> times{0, 1, 4, 7, 9, 10, 13, 20, 25};
  std::map<time_window, uint64_t> expected;
  for (auto t : times) {
    h.push({"ann", 1}, t);
    windows.assign(0, t, [&](time_window w) { ++expected[w]; });
  }
  h.end_input();
  std::map<time_window, uint64_t> got;
  for (auto& r : h.take_values())
    got[r.window] += r.value;
  CHECK(got == expected);
}

TEST_CASE("session windows merge when a record bridges them, late within the lateness") {
  operator_harness<counting_window<session_window>> h{count_by_user(session_window{10ms}, 100ms)};
  h.push({"ann", 1}, 0);  // [0, 10)
  h.push({"ann", 1}, 15); // [15, 25)
  h.push({"bob", 1}, 3);  // [3, 13)
  h.push({"ann", 1}, 5);  // [5, 15) merges with [0, 10): [0, 15), which touches [15, 25)
  h.push_watermark(30);
  auto fired = h.take_values();
  std::sort(fired.begin(), fired.end(), [](auto& a, auto& b) { return a.key < b.key; });
  CHECK(fired == std::vector{counted("ann", 0, 25, 3), counted("bob", 3, 13, 1)});

  h.push({"bob", 1}, 30); // [30, 40): a session apart
  h.push({"bob", 1}, 20); // late: [20, 30) bridges [3, 13)? no, it touches [30, 40)
  h.push_watermark(45);
  CHECK(h.take_values() == std::vector{counted("bob", 20, 40, 2)});

  h.push({"bob", 1}, 12); // late: [12, 22) bridges [3, 13) and [20, 40), both fired
  CHECK(h.take_values() == std::vector{counted("bob", 3, 40, 4)});
}

TEST_CASE("the end of a bounded input fires every window") {
  operator_harness<counting_window<tumbling_window>> h{count_by_user(tumbling_window{10ms})};
  h.push({"ann", 1}, 5);
  h.push({"ann", 1}, 1'000'005);
  h.push({"bob", 1}, -7);
  h.end_input();
  auto fired = h.take_values();
  std::sort(fired.begin(), fired.end(),
            [](auto& a, auto& b) { return std::tie(a.key, a.window) < std::tie(b.key, b.window); });
  CHECK(fired
        == std::vector{counted("ann", 0, 10, 1), counted("ann", 1'000'000, 1'000'010, 1),
                       counted("bob", -10, 0, 1)});
}

TEST_CASE("windows restored from a snapshot fire as if the instance had never stopped") {
  operator_harness<counting_window<session_window>> h{count_by_user(session_window{10ms})};
  for (timestamp t : {0, 4, 30, 8})
    h.push({"ann", 1}, t);
  h.push_watermark(12);
  auto id = h.snapshot();
  h.push({"ann", 1}, 100); // lost with the instance
  h.restore(count_by_user(session_window{10ms}), id);
  for (timestamp t : {35, 60})
    h.push({"ann", 1}, t);
  h.end_input();
  CHECK(
    h.take_values()
    == std::vector{counted("ann", 0, 18, 3), counted("ann", 30, 45, 2), counted("ann", 60, 70, 1)});
}

TEMPLATE_TEST_CASE_SIG("a window function sees the watermark and processing time it fires at", "",
                       ((bool LateOutput), LateOutput), false, true) {
  operator_harness<clock_telling_window<LateOutput>> h{
    {user_of, tumbling_window{10ms}, event_time_trigger{}, clock_telling{tell_clocks{}}, 50ms}};
  h.advance_processing_time(5'000);
  h.push({"ann", 1}, 3);
  h.push_watermark(12);
  CHECK(results_of(h.take_values()) == std::vector<std::string>{"1@12/5000/9"});
  h.advance_processing_time(6'000);
  h.push({"ann", 1}, 4); // late within the lateness: fired again, the watermark past the end
  CHECK(results_of(h.take_values()) == std::vector<std::string>{"2@12/6000/9"});
  h.push({"ann", 1}, 25);
  h.end_input(); // the last watermark
  CHECK(results_of(h.take_values())
        == std::vector<std::string>{"1@" + std::to_string(max_timestamp) + "/6000/29"});
}
