// [ch0, ch1, ch2] -> watermark_tracker -> combined watermark

#include <catch2/catch.hpp>

#include "sluice/watermark_tracker.hpp"

using sluice::max_timestamp;
using sluice::min_timestamp;
using sluice::watermark_tracker;

TEST_CASE("the combined watermark is the minimum over all inputs") {
  watermark_tracker w{3};
  CHECK_FALSE(w.advance(0, 10));
  CHECK_FALSE(w.advance(1, 20));
  CHECK(w.current() == min_timestamp);
  CHECK(w.advance(2, 5));
  CHECK(w.current() == 5);
  CHECK(w.advance(2, 30));
  CHECK(w.current() == 10);
}

TEST_CASE("an idle input is excluded from the watermark minimum until it becomes active") {
  watermark_tracker w{2};
  w.advance(0, 100);
  CHECK(w.current() == min_timestamp);
  CHECK(w.set_idle(1, true));
  CHECK(w.current() == 100);
  CHECK(w.all_idle() == false);
  // Becoming active with an older watermark never moves the combined watermark back.
  CHECK_FALSE(w.advance(1, 50));
  CHECK(w.current() == 100);
  CHECK_FALSE(w.advance(0, 200));
  CHECK(w.advance(1, 150));
  CHECK(w.current() == 150);
}

TEST_CASE("the watermark holds while every input is idle") {
  watermark_tracker w{2};
  w.advance(0, 7);
  w.advance(1, 9);
  CHECK(w.current() == 7);
  CHECK(w.set_idle(0, true));
  CHECK(w.current() == 9);
  CHECK_FALSE(w.set_idle(1, true));
  CHECK(w.all_idle());
  CHECK(w.current() == 9);
}

TEST_CASE("when every input left open is idle, the watermark passes ended inputs' maximum") {
  // Whatever order the end of one input and the idleness of the other arrive in.
  for (bool idle_first : {true, false}) {
    watermark_tracker w{2};
    w.advance(0, 3);
    w.advance(1, 5);
    CHECK(w.current() == 3);
    if (idle_first) {
      CHECK_FALSE(w.set_idle(1, true));
      CHECK(w.current() == 3);
      CHECK(w.end(0));
    } else {
      CHECK(w.end(0));
      CHECK(w.current() == 5);
      CHECK(w.set_idle(1, true));
    }
    CHECK(w.current() == max_timestamp);
  }
}

TEST_CASE("while every input is idle the watermark is the largest of theirs") {
  watermark_tracker w{3};
  w.advance(0, 7);
  w.advance(1, 12);
  w.advance(2, 9);
  w.set_idle(0, true);
  w.set_idle(2, true);
  CHECK(w.current() == 12);
  CHECK_FALSE(w.set_idle(1, true));
  CHECK(w.current() == 12);
}

TEST_CASE("ended inputs leave the minimum and all ended gives the maximum watermark") {
  watermark_tracker w{2};
  w.advance(0, 3);
  w.advance(1, 8);
  CHECK(w.end(0));
  CHECK(w.current() == 8);
  CHECK(w.end(1));
  CHECK(w.current() == max_timestamp);
}
