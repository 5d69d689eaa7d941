// op::interval_join on its own: when pairs and lone records come out and with what time, how
// long records wait in keyed state, late records, a restored instance, records without time.

#include <catch2/catch.hpp>

#include <string>
#include <utility>
#include <vector>

#include "sluice/joined_streams.hpp"
#include "sluice/testing/operator_harness.hpp"

using namespace sluice;
using sluice::testing::operator_harness;

namespace {

using event = std::pair<std::string, int>; // (key, id)

/// "order+payment", with "-" for a side without a partner.
struct describe_pair {
  std::string operator()(const event* a, const event* b) const {
    return (a ? std::to_string(a->second) : "-") + "+" + (b ? std::to_string(b->second) : "-");
  }
};

using key_fn = decltype(&event::first);
using full_joiner = detail::joiner<join_kind::full, event, event, describe_pair>;
using join_op = op::interval_join<event, key_fn, event, key_fn, full_joiner>;
using buffers = join_op::buffers;

/// A full interval join: b within [a.time - 5, a.time + 10].
join_op between_minus_5_and_10() {
  return join_op{{&event::first, &event::first}, full_joiner{describe_pair{}}, -5, 10};
}

} // namespace

TEST_CASE("an interval join emits a pair as soon as both are there, at the later time") {
  operator_harness<join_op> h{between_minus_5_and_10()};
  h.push_first(event{"k", 1}, 100);
  h.push_second(event{"k", 2}, 110); // a.time + 10: in
  h.push_second(event{"k", 3}, 95);  // a.time - 5: in
  h.push_second(event{"k", 4}, 111); // out
  h.push_second(event{"x", 5}, 100); // another key
  REQUIRE(h.output().size() == 2);
  CHECK(h.output()[0].value == "1+2");
  CHECK(h.output()[0].time == 110);
  CHECK(h.output()[1].value == "1+3");
  CHECK(h.output()[1].time == 100);
}

TEST_CASE("records wait until the watermark makes a partner impossible, then go alone") {
  operator_harness<join_op> h{between_minus_5_and_10()};
  h.push_first(event{"k", 1}, 100);  // waits until 110
  h.push_second(event{"k", 2}, 200); // waits until 205
  h.push_watermark(109);
  CHECK(h.output().empty());
  h.push_watermark(110);
  REQUIRE(h.output().size() == 1);
  CHECK(h.output()[0].value == "1+-");
  CHECK(h.output()[0].time == 110);
  CHECK(h.keyed_state<std::string, buffers>("interval_join", "k")->first.empty());
  h.push_watermark(205);
  REQUIRE(h.output().size() == 2);
  CHECK(h.output()[1].value == "-+2");
  CHECK(h.output()[1].time == 205);
  CHECK_FALSE(h.keyed_state<std::string, buffers>("interval_join", "k")); // the key's state went
}

TEST_CASE("a record that met a partner does not come out alone in an outer join") {
  operator_harness<join_op> h{between_minus_5_and_10()};
  h.push_first(event{"k", 1}, 100);
  h.push_second(event{"k", 2}, 104);
  h.end_input();
  CHECK(h.take_values() == std::vector<std::string>{"1+2"});
}

TEST_CASE("a record at or below the watermark is late: it joins nothing and is counted") {
  operator_harness<join_op> h{between_minus_5_and_10()};
  h.push_second(event{"k", 2}, 60);
  h.push_watermark(50);
  h.push_first(event{"k", 1}, 50);
  CHECK(h.op().late_records() == 1);
  h.end_input();
  CHECK(h.take_values() == std::vector<std::string>{"-+2"});
}

TEST_CASE("waiting records are keyed state: a restored instance joins them") {
  operator_harness<join_op> h{between_minus_5_and_10()};
  h.push_first(event{"k", 1}, 100);
  auto checkpoint = h.snapshot();
  h.push_second(event{"k", 2}, 101); // after the snapshot: lost with the instance
  h.restore(between_minus_5_and_10(), checkpoint);
  h.push_second(event{"k", 3}, 102);
  h.end_input();
  CHECK(h.take_values() == std::vector<std::string>{"1+2", "1+3"});
}

TEST_CASE("a record without event time fails the interval join naming its input") {
  operator_harness<join_op> h{between_minus_5_and_10()};
  try {
    h.push_second(event{"k", 1}, min_timestamp);
    FAIL("a record without event time was joined");
  } catch (const failure& e) {
    CHECK(e.code() == errc::configuration);
    CHECK_THAT(e.what(), Catch::Contains("interval join needs event time")
                           && Catch::Contains("second input"));
  }
}
