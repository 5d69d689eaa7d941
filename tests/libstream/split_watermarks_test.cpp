// records of splits 0, 1, ... -> one generator per split -> split_watermarks -> the source's
// watermark and idleness

#include <catch2/catch.hpp>

#include <chrono>

#include "sluice/split_watermarks.hpp"

using namespace sluice;
using namespace std::chrono_literals;

namespace {

using clock_type = split_watermarks<out_of_orderness_watermarks>::clock;

const clock_type::time_point start{};

split_watermarks<out_of_orderness_watermarks> monotonous(std::chrono::milliseconds idleness) {
  return {out_of_orderness_watermarks{0ms}, idleness};
}

} // namespace

TEST_CASE("a source's watermark is the minimum over its splits") {
  auto w = monotonous(0ms);
  w.begin(7);
  w.on_event(0, 100);
  CHECK(w.combine(start + 1ms).watermark == 99);
  w.begin(3);
  // Split 3 has no watermark yet: it holds the source's back.
  CHECK(w.combine(start + 2ms).watermark == min_timestamp);
  w.on_event(0, 40);
  w.begin(7);
  w.on_event(0, 200);
  auto combined = w.combine(start + 3ms);
  CHECK(combined.watermark == 39);
  CHECK_FALSE(combined.idle);
}

TEST_CASE("records before any split is named are split 0's") {
  auto w = monotonous(0ms);
  w.on_event(0, 10);
  w.begin(1);
  w.on_event(0, 50);
  CHECK(w.combine(start).watermark == 9);
  w.begin(0);
  w.on_event(0, 60);
  CHECK(w.combine(start).watermark == 49);
}

TEST_CASE("a split that ended leaves the minimum, and the current split stays current") {
  auto w = monotonous(0ms);
  w.begin(1);
  w.on_event(0, 10);
  w.begin(2);
  w.on_event(0, 50);
  CHECK(w.combine(start).watermark == 9);
  w.end(1); // not the current split
  CHECK(w.is_current(2));
  w.on_event(0, 80);
  CHECK(w.combine(start).watermark == 79);
  w.end(2);
  w.end(2); // ending twice, or a split never named, changes nothing
  w.end(9);
  auto combined = w.combine(start);
  CHECK(combined.watermark == min_timestamp); // no split: nothing to say
  CHECK_FALSE(combined.idle);
}

TEST_CASE("a split without records for the idleness is idle, and the source when all are") {
  auto w = monotonous(50ms);
  w.begin(0);
  w.on_event(0, 10);
  w.begin(1);
  w.on_event(0, 500);
  CHECK(w.combine(start).watermark == 9);
  CHECK(w.next_idle() == start + 50ms);
  w.on_event(0, 510); // split 1 goes on, split 0 is silent
  CHECK(w.combine(start + 30ms).watermark == 9);
  auto combined = w.combine(start + 50ms);
  CHECK(combined.watermark == 509); // split 0 is idle
  CHECK_FALSE(combined.idle);
  CHECK(w.next_idle() == start + 80ms);
  combined = w.combine(start + 80ms);
  CHECK(combined.idle);
  CHECK(combined.watermark == min_timestamp);
  CHECK_FALSE(w.next_idle());
  // A record makes its split active again.
  w.begin(0);
  w.on_event(0, 20);
  combined = w.combine(start + 90ms);
  CHECK_FALSE(combined.idle);
  CHECK(combined.watermark == 19);
}

TEST_CASE("without an idleness no split is ever idle") {
  auto w = monotonous(0ms);
  w.on_event(0, 10);
  CHECK_FALSE(w.combine(start + std::chrono::hours{24}).idle);
  CHECK_FALSE(w.next_idle());
}
