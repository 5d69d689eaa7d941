// time windows: bounds, overlap, cover, and the start of a window holding a time

#include <catch2/catch.hpp>

#include <chrono>

#include "sluice/windows/time_window.hpp"

using namespace sluice;
using namespace std::chrono_literals;

TEST_CASE("a time window holds the times from its start up to before its end") {
  time_window w{10, 20};
  CHECK(w.max_timestamp() == 19);
  CHECK(w.intersects(time_window{19, 25}));
  CHECK(w.intersects(time_window{20, 25})); // touching windows merge, as Flink's do
  CHECK(w.intersects(time_window{0, 10}));
  CHECK_FALSE(w.intersects(time_window{21, 25}));
  CHECK_FALSE(w.intersects(time_window{0, 9}));
  CHECK(w.cover(time_window{15, 30}) == time_window{10, 30});
  CHECK(w.cover(time_window{0, 5}) == time_window{0, 20});
  CHECK(time_window{0, 5} < w);
}

TEST_CASE("a window's start rounds a time down to the window size, before the epoch too") {
  CHECK(window_start(0, 0, 10) == 0);
  CHECK(window_start(9, 0, 10) == 0);
  CHECK(window_start(10, 0, 10) == 10); // a time on a boundary starts the next window
  CHECK(window_start(-1, 0, 10) == -10);
  CHECK(window_start(-10, 0, 10) == -10);
  CHECK(window_start(-11, 0, 10) == -20);
  CHECK(window_start(12, 3, 10) == 3);
  CHECK(window_start(2, 3, 10) == -7);
  CHECK(window_start(12, -3, 10) == 7);
}

TEST_CASE("a window length must be positive, and the problem names the length") {
  CHECK_FALSE(positive_length("size", 1ms));
  auto zero = positive_length("tumbling window size", 0ms);
  REQUIRE(zero);
  CHECK(zero->find("tumbling window size") != std::string::npos);
  CHECK(zero->find("0 ms") != std::string::npos);
  auto negative = positive_length("gap", -5ms);
  REQUIRE(negative);
  CHECK(negative->find("-5 ms") != std::string::npos);
}
