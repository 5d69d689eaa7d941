// (user, amount) --> window(global | tumbling) with a count, purging, continuous or processing-time
// trigger, or an evictor --> results per firing

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdint>
#include <numeric>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "sluice/operators/window.hpp"
#include "sluice/testing/operator_harness.hpp"
#include "sluice/windows/continuous_event_time_trigger.hpp"
#include "sluice/windows/count_trigger.hpp"
#include "sluice/windows/event_time_trigger.hpp"
#include "sluice/windows/global_window.hpp"
#include "sluice/windows/processing_time_trigger.hpp"
#include "sluice/windows/purging_trigger.hpp"
#include "sluice/windows/tumbling_window.hpp"
#include "sluice/windows/window_contents.hpp"

using namespace sluice;
using namespace std::chrono_literals;
using sluice::testing::operator_harness;

namespace {

using event = std::pair<std::string, int64_t>; // (user, amount)

auto user_of = [](const event& e) -> const std::string& { return e.first; };
using user_key = decltype(user_of);

/// A full window function: emits "user:amount,amount,...@start" with the window's amounts.
struct list_amounts {
  void operator()(const std::string& user, const time_window& w, std::span<const event> events,
                  emitter<std::string>& out) const {
    std::string text = user + ":";
    for (const auto& e : events)
      text += std::to_string(e.second) + ",";
    text.pop_back();
    if (w.start != min_timestamp)
      text += "@" + std::to_string(w.start);
    out(text);
  }
};

template <class Evictor = no_evictor>
using listing = detail::element_contents<std::string, event, std::string, list_amounts, Evictor>;

template <class Assigner, class Trigger, class Evictor = no_evictor>
using listing_window = op::window<event, user_key, Assigner, Trigger, listing<Evictor>>;

template <class Assigner, class Trigger, class Evictor = no_evictor>
listing_window<Assigner, Trigger, Evictor> list_by_user(Assigner assigner, Trigger trigger,
                                                        Evictor evictor = {}) {
  return {user_of, std::move(assigner), std::move(trigger),
          listing<Evictor>{list_amounts{}, std::move(evictor)}, 0ms};
}

} // namespace

TEST_CASE("a count window fires every n records of a key and starts afresh") {
  auto op = list_by_user(global_window{}, purging_trigger{count_trigger{3}});
  operator_harness<decltype(op)> h{op};
  for (int64_t i = 1; i <= 7; ++i)
    h.push({i % 2 ? "ann" : "bob", i}, i);
  CHECK(h.take_values() == std::vector<std::string>{"ann:1,3,5", "bob:2,4,6"});
  h.end_input(); // the global window never ends: the rest does not fire
  CHECK(h.output().empty());
}

TEST_CASE("a sliding count window fires every slide with the last size records") {
  auto op = list_by_user(global_window{}, count_trigger{2}, count_evictor{3});
  operator_harness<decltype(op)> h{op};
  for (int64_t i = 1; i <= 6; ++i)
    h.push({"ann", i}, i);
  CHECK(h.take_values() == std::vector<std::string>{"ann:1,2", "ann:2,3,4", "ann:4,5,6"});
}

TEST_CASE("a count window's progress survives a snapshot and a restore") {
  auto make = [] { return list_by_user(global_window{}, purging_trigger{count_trigger{3}}); };
  operator_harness<decltype(make())> h{make()};
  h.push({"ann", 1}, 1);
  h.push({"ann", 2}, 2);
  auto id = h.snapshot();
  h.push({"ann", 99}, 3); // the instance fails after it fired: a new one restores
  CHECK(h.take_values() == std::vector<std::string>{"ann:1,2,99"});
  h.restore(make(), id);
  h.push({"ann", 3}, 3);
  CHECK(h.take_values() == std::vector<std::string>{"ann:1,2,3"});
}

TEST_CASE("a time evictor keeps the window's records near its latest") {
  auto op = list_by_user(tumbling_window{100ms}, event_time_trigger{}, time_evictor{10ms});
  operator_harness<decltype(op)> h{op};
  for (timestamp t : {1, 50, 85, 90, 95})
    h.push({"ann", t}, t);
  h.end_input();
  CHECK(h.take_values() == std::vector<std::string>{"ann:85,90,95@0"});
}

TEST_CASE("a continuous trigger fires a window early every interval and at its end") {
  auto op = list_by_user(tumbling_window{100ms}, continuous_event_time_trigger{30ms});
  operator_harness<decltype(op)> h{op};
  h.push({"ann", 1}, 1);
  h.push({"ann", 2}, 20);
  h.push_watermark(29);
  CHECK(h.output().empty());
  h.push_watermark(30); // early firings at multiples of the interval
  CHECK(h.take_values() == std::vector<std::string>{"ann:1,2@0"});
  h.push({"ann", 3}, 40);
  h.push_watermark(60);
  CHECK(h.take_values() == std::vector<std::string>{"ann:1,2,3@0"});
  h.push_watermark(99); // at 90, then at the window's end
  CHECK(h.take_values() == std::vector<std::string>{"ann:1,2,3@0", "ann:1,2,3@0"});
}

TEST_CASE("a processing-time window fires when the instance's clock passes its end") {
  auto op = list_by_user(tumbling_window{1s}.in_processing_time(), processing_time_trigger{});
  operator_harness<decltype(op)> h{op};
  h.advance_processing_time(10'000);
  h.push({"ann", 1}, 5); // event time plays no part
  h.advance_processing_time(10'500);
  h.push({"ann", 2}, 999'999);
  h.push_watermark(500'000);
  CHECK(h.output().empty());
  h.advance_processing_time(10'999);
  CHECK(h.take_values() == std::vector<std::string>{"ann:1,2@10000"});
  h.advance_processing_time(11'000);
  h.push({"ann", 3}, 0);
  h.end_input();
  CHECK(h.take_values() == std::vector<std::string>{"ann:3@11000"});
}
