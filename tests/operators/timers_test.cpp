// records + watermarks --> keyed process with event-time timers (operator_harness) --> on_timer
// output

#include <catch2/catch.hpp>

#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "sluice/operators/process.hpp"
#include "sluice/testing/operator_harness.hpp"

using namespace sluice;
using sluice::testing::operator_harness;

namespace {

using event = std::pair<std::string, int>;                 // (key, payload)
using fired = std::tuple<std::string, int64_t, timestamp>; // (key, records of the key, time)

/// Counts the records of each key and asks for a timer `delay` after each record's time; a
/// timer emits the key, its count then and the timer's time.
struct delayed_count {
  timestamp delay = 10;

  void process(const event&, keyed_context<std::string, fired>& ctx) {
    auto n = ctx.value<int64_t>("n");
    n.update(n.value_or(0) + 1);
    ctx.register_event_time_timer(ctx.current_time() + delay);
  }

  void on_timer(timestamp time, keyed_context<std::string, fired>& ctx) {
    ctx.emit({ctx.key(), ctx.value<int64_t>("n").value_or(0), time});
  }
};

auto by_key = [](const event& e) -> const std::string& { return e.first; };
using timed_op = op::keyed_process<event, decltype(by_key), fired, delayed_count>;

} // namespace

TEST_CASE("event-time timers fire in time order when the watermark passes them") {
  operator_harness<timed_op> h{timed_op{by_key, delayed_count{}}};
  h.push({"b", 0}, 20); // timer at 30
  h.push({"a", 0}, 5);  // 15
  h.push({"a", 0}, 12); // 22
  h.push({"c", 0}, 5);  // 15, after "a" at the same time
  h.push_watermark(14);
  CHECK(h.output().empty());
  h.push_watermark(25);
  CHECK(h.take_values() == std::vector<fired>{{"a", 2, 15}, {"c", 1, 15}, {"a", 2, 22}});
  h.push_watermark(30);
  REQUIRE(h.output().size() == 1);
  CHECK(h.output()[0].time == 30); // the output of a timer carries the timer's time
  CHECK(h.take_values() == std::vector<fired>{{"b", 1, 30}});
}

TEST_CASE("a timer registered twice for a key and time fires once") {
  operator_harness<timed_op> h{timed_op{by_key, delayed_count{}}};
  h.push({"a", 0}, 5);
  h.push({"a", 1}, 5);
  h.push_watermark(100);
  CHECK(h.take_values() == std::vector<fired>{{"a", 2, 15}});
}

TEST_CASE("the end of a bounded input fires every pending event-time timer") {
  operator_harness<timed_op> h{timed_op{by_key, delayed_count{1000}}};
  h.push({"x", 0}, 1);
  h.push({"y", 0}, 2);
  h.end_input();
  CHECK(h.take_values() == std::vector<fired>{{"x", 1, 1001}, {"y", 1, 1002}});
}

TEST_CASE("pending timers are keyed state: a restored instance fires them") {
  operator_harness<timed_op> h{timed_op{by_key, delayed_count{}}};
  h.push({"a", 0}, 1);
  h.push({"b", 0}, 2);
  auto checkpoint = h.snapshot();
  h.push({"c", 0}, 3); // after the snapshot: lost with the instance
  h.push_watermark(11);
  CHECK(h.take_values() == std::vector<fired>{{"a", 1, 11}});
  h.restore(timed_op{by_key, delayed_count{}}, checkpoint);
  h.push_watermark(20);
  CHECK(h.take_values() == std::vector<fired>{{"a", 1, 11}, {"b", 1, 12}});
}

TEST_CASE("a process function without on_timer that registers a timer fails naming on_timer") {
  auto no_handler = [](const event&, keyed_context<std::string, fired>& ctx) {
    ctx.register_event_time_timer(1);
  };
  using op_type = op::keyed_process<event, decltype(by_key), fired, decltype(no_handler)>;
  operator_harness<op_type> h{op_type{by_key, no_handler}};
  try {
    h.push({"a", 0}, 0);
    FAIL("registering a timer without on_timer did not fail");
  } catch (const failure& e) {
    CHECK(e.code() == errc::configuration);
    CHECK_THAT(e.what(), Catch::Contains("on_timer"));
  }
}

TEST_CASE("the timers' state names are reserved") {
  state_store store;
  CHECK_THROWS_AS((store.table<std::string, int>("^timers:event")), state_type_error);
}

namespace {

using flushed = std::tuple<std::string, int64_t, timestamp>; // (key, records since last, time)

/// Counts each key's records and flushes the count `delay` ms of processing time after the
/// first record since the last flush; event-time timers are not used.
struct periodic_flush {
  timestamp delay = 5;

  void process(const event&, keyed_context<std::string, flushed>& ctx) {
    auto n = ctx.value<int64_t>("n");
    if (n.value_or(0) == 0)
      ctx.register_processing_time_timer(ctx.current_processing_time() + delay);
    n.update(n.value_or(0) + 1);
  }

  void on_timer(timestamp, keyed_context<std::string, flushed>& ctx) {
    REQUIRE(ctx.timer_domain() == time_domain::processing_time);
    auto n = ctx.value<int64_t>("n");
    ctx.emit({ctx.key(), n.value_or(0), ctx.current_time()});
    n.clear();
  }
};

using flush_op = op::keyed_process<event, decltype(by_key), flushed, periodic_flush>;

} // namespace

TEST_CASE(
  "processing-time timers fire when processing time passes them, stamped with the "
  "watermark") {
  operator_harness<flush_op> h{flush_op{by_key, periodic_flush{}}};
  h.advance_processing_time(100);
  h.push({"a", 0}, 1); // timer at 105
  h.push({"b", 0}, 2); // 105
  h.advance_processing_time(103);
  h.push({"a", 0}, 3); // no new timer: "a" has one
  h.push_watermark(40);
  h.push({"c", 0}, 50); // 108
  h.advance_processing_time(104);
  CHECK(h.output().empty());
  h.advance_processing_time(106);
  CHECK(h.take_values() == std::vector<flushed>{{"a", 2, 40}, {"b", 1, 40}});
  h.push({"a", 0}, 60); // 111
  h.advance_processing_time(200);
  CHECK(h.take_values() == std::vector<flushed>{{"c", 1, 40}, {"a", 1, 40}});
}

TEST_CASE("once event time has ended, processing-time timers' output carries no event time") {
  // As between a bounded source's last watermark and its end of stream: processing time goes
  // on, and the end of time is no record's time (a Kafka sink could not write it).
  operator_harness<flush_op> h{flush_op{by_key, periodic_flush{}}};
  h.push({"a", 0}, 1); // timer at 5
  h.push_watermark(max_timestamp);
  h.advance_processing_time(10);
  CHECK(h.take_values() == std::vector<flushed>{{"a", 1, min_timestamp}});
}

TEST_CASE("a deleted processing-time timer does not fire, and the end of input fires the rest") {
  struct cancelling {
    void process(const event& e, keyed_context<std::string, fired>& ctx) {
      if (e.second == 0)
        ctx.register_processing_time_timer(ctx.current_processing_time() + 10);
      else
        ctx.delete_processing_time_timer(e.second);
    }
    void on_timer(timestamp time, keyed_context<std::string, fired>& ctx) {
      ctx.emit({ctx.key(), ctx.timer_domain() == time_domain::processing_time, time});
    }
  };
  using op_type = op::keyed_process<event, decltype(by_key), fired, cancelling>;
  operator_harness<op_type> h{op_type{by_key, cancelling{}}};
  h.push({"a", 0});  // processing-time timer at 10
  h.push({"b", 0});  // 10
  h.push({"a", 10}); // deletes a's
  h.push({"b", 11}); // deletes nothing: b has none at 11
  h.end_input();
  CHECK(h.take_values() == std::vector<fired>{{"b", 1, 10}});
}

TEST_CASE("at end of input event-time timers fire before processing-time ones") {
  struct both {
    void process(const event&, keyed_context<std::string, fired>& ctx) {
      ctx.register_processing_time_timer(1);
      ctx.register_event_time_timer(ctx.current_time() + 1);
    }
    void on_timer(timestamp time, keyed_context<std::string, fired>& ctx) {
      ctx.emit({ctx.key(), ctx.timer_domain() == time_domain::processing_time, time});
    }
  };
  using op_type = op::keyed_process<event, decltype(by_key), fired, both>;
  operator_harness<op_type> h{op_type{by_key, both{}}};
  h.push({"a", 0}, 1000);
  h.end_input();
  CHECK(h.take_values() == std::vector<fired>{{"a", 0, 1001}, {"a", 1, 1}});
}

TEST_CASE("pending processing-time timers are restored with the state") {
  operator_harness<flush_op> h{flush_op{by_key, periodic_flush{}}};
  h.push({"a", 0}); // timer at 5
  auto checkpoint = h.snapshot();
  h.push({"b", 0}); // lost with the instance
  h.restore(flush_op{by_key, periodic_flush{}}, checkpoint);
  h.advance_processing_time(5);
  CHECK(h.take_values() == std::vector<flushed>{{"a", 1, min_timestamp}});
}

TEST_CASE("timers at the smallest and largest timestamps fire, the largest only at the end") {
  struct extremes {
    void process(const event& e, keyed_context<std::string, fired>& ctx) {
      ctx.register_event_time_timer(e.second == 0 ? min_timestamp : max_timestamp);
    }
    void on_timer(timestamp time, keyed_context<std::string, fired>& ctx) {
      ctx.emit({ctx.key(), 0, time});
    }
  };
  using op_type = op::keyed_process<event, decltype(by_key), fired, extremes>;
  operator_harness<op_type> h{op_type{by_key, extremes{}}};
  h.push({"low", 0});
  h.push({"high", 1});
  h.push_watermark(min_timestamp + 1);
  CHECK(h.take_values() == std::vector<fired>{{"low", 0, min_timestamp}});
  h.push_watermark(max_timestamp - 1);
  CHECK(h.output().empty());
  h.end_input();
  CHECK(h.take_values() == std::vector<fired>{{"high", 0, max_timestamp}});
}

TEST_CASE("current_processing_time without on_timer fails naming on_timer") {
  auto no_handler = [](const event&, keyed_context<std::string, fired>& ctx) {
    (void)ctx.current_processing_time();
  };
  using op_type = op::keyed_process<event, decltype(by_key), fired, decltype(no_handler)>;
  operator_harness<op_type> h{op_type{by_key, no_handler}};
  CHECK_THROWS_WITH(h.push({"a", 0}, 0), Catch::Contains("on_timer"));
}
