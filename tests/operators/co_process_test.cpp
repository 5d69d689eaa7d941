// records on two inputs (operator_harness push_first / push_second) --> co_process and
// keyed_co_process (one keyed state and timers for both inputs) --> output

#include <catch2/catch.hpp>

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "sluice/operators/co_process.hpp"
#include "sluice/testing/operator_harness.hpp"

using namespace sluice;
using sluice::testing::operator_harness;

namespace {

using update = std::pair<std::string, int>; // (key, new value)
using lookup = std::string;                 // a key to look up

/// Keeps each key's latest value from the first input and answers lookups on the second with
/// "key=value", or "key?" before any value; a lookup of a key without a value asks for a
/// reminder 10 ms of event time later, which says "key still?" if none came meanwhile.
struct enrich {
  void process_first(const update& u, keyed_context<std::string, std::string>& ctx) {
    ctx.value<int>("latest").update(u.second);
  }

  void process_second(const lookup&, keyed_context<std::string, std::string>& ctx) {
    auto latest = ctx.value<int>("latest").value();
    if (latest) {
      ctx.emit(ctx.key() + "=" + std::to_string(*latest));
      return;
    }
    ctx.emit(ctx.key() + "?");
    ctx.register_event_time_timer(ctx.current_time() + 10);
  }

  void on_timer(timestamp, keyed_context<std::string, std::string>& ctx) {
    if (!ctx.value<int>("latest").value())
      ctx.emit(ctx.key() + " still?");
  }
};

auto update_key = [](const update& u) -> const std::string& { return u.first; };
auto lookup_key = std::identity{};
using enrich_op = op::keyed_co_process<update, decltype(update_key), lookup, decltype(lookup_key),
                                       std::string, enrich>;

enrich_op make_enrich() {
  return enrich_op{update_key, lookup_key, enrich{}};
}

} // namespace

TEST_CASE("a keyed co-process shares one keyed state between its two inputs") {
  operator_harness<enrich_op> h{make_enrich()};
  h.push_second("a", 1);
  h.push_first(update{"a", 5}, 2);
  h.push_first(update{"b", 7}, 3);
  h.push_second("a", 4);
  h.push_second("b", 5);
  h.push_first(update{"a", 6}, 6);
  h.push_second("a", 7);
  CHECK(h.take_values() == std::vector<std::string>{"a?", "a=5", "b=7", "a=6"});
  CHECK(h.keyed_state<std::string, int>("latest", "a") == 6);
}

TEST_CASE("a keyed co-process's timers fire for the key that set them, from either input") {
  operator_harness<enrich_op> h{make_enrich()};
  h.push_second("x", 100); // reminder at 110
  h.push_second("y", 100); // 110
  h.push_first(update{"y", 1}, 105);
  h.push_watermark(110);
  CHECK(h.take_values() == std::vector<std::string>{"x?", "y?", "x still?"});
}

TEST_CASE("a keyed co-process restored from a snapshot has both inputs' state") {
  operator_harness<enrich_op> h{make_enrich()};
  h.push_first(update{"a", 1});
  h.push_second("b"); // reminder pending
  auto checkpoint = h.snapshot();
  h.push_first(update{"b", 2}); // lost with the instance
  h.restore(make_enrich(), checkpoint);
  h.take_values();
  h.push_second("a");
  h.end_input();
  CHECK(h.take_values() == std::vector<std::string>{"a=1", "b still?"});
}

TEST_CASE("a co-process tells its inputs apart when both have one record type") {
  struct difference {
    int sum = 0;
    void process_first(const int& x, context<int>& ctx) { ctx.emit(sum += x); }
    void process_second(const int& x, context<int>& ctx) { ctx.emit(sum -= x); }
  };
  using op_type = op::co_process<int, int, int, difference>;
  operator_harness<op_type> h{op_type{difference{}}};
  h.push_first(5);
  h.push_second(2);
  h.push_second(10);
  h.push_first(1);
  CHECK(h.take_values() == std::vector<int>{5, 3, -7, -6});
}
