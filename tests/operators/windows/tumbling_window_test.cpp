// tumbling windows: each time in exactly one window, boundaries, offsets, bad sizes

#include <catch2/catch.hpp>

#include <chrono>
#include <vector>

#include "sluice/windows/tumbling_window.hpp"

using namespace sluice;
using namespace std::chrono_literals;

namespace {

std::vector<time_window> windows_of(const tumbling_window& assigner, timestamp time) {
  std::vector<time_window> result;
  assigner.assign(0, time, [&](time_window w) { result.push_back(w); });
  return result;
}

} // namespace

TEST_CASE("a tumbling window holds a record on its start boundary, not on its end") {
  tumbling_window minute{1min};
  CHECK(windows_of(minute, 60'000) == std::vector{time_window{60'000, 120'000}});
  CHECK(windows_of(minute, 59'999) == std::vector{time_window{0, 60'000}});
  CHECK(windows_of(minute, 0) == std::vector{time_window{0, 60'000}});
  CHECK(windows_of(minute, -1) == std::vector{time_window{-60'000, 0}});
  CHECK(minute.domain() == time_domain::event_time);
  CHECK(minute.in_processing_time().domain() == time_domain::processing_time);
  CHECK_FALSE(minute.problem());
}

TEST_CASE("a tumbling window with an offset starts that much later") {
  auto quarter_past = tumbling_window{1h}.with_offset(15min);
  CHECK(windows_of(quarter_past, 0) == std::vector{time_window{-2'700'000, 900'000}});
  CHECK(windows_of(quarter_past, 900'000) == std::vector{time_window{900'000, 4'500'000}});
  CHECK_FALSE(quarter_past.problem());
}

TEST_CASE("a tumbling window of size zero or less, or an offset as large as the size, is refused") {
  for (std::chrono::milliseconds size : {0ms, -1ms, -60000ms}) {
    auto problem = tumbling_window{size}.problem();
    REQUIRE(problem);
    CHECK(problem->find("tumbling window size must be positive") != std::string::npos);
  }
  for (auto offset : {10s, 11s, -10s}) {
    auto problem = tumbling_window{10s}.with_offset(offset).problem();
    REQUIRE(problem);
    CHECK(problem->find("offset") != std::string::npos);
  }
  CHECK_FALSE(tumbling_window{10s}.with_offset(-9s).problem());
}
