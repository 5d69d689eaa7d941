// sliding windows: every window that holds a time, sizes not a multiple of the slide, bad input

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <vector>

#include "sluice/windows/sliding_window.hpp"

using namespace sluice;
using namespace std::chrono_literals;

namespace {

std::vector<time_window> windows_of(const sliding_window& assigner, timestamp time) {
  std::vector<time_window> result;
  assigner.assign(0, time, [&](time_window w) { result.push_back(w); });
  std::sort(result.begin(), result.end());
  return result;
}

/// Every window [s, s + size) with s = offset + k * slide that holds `time`, found by walking
/// all starts near it.
std::vector<time_window> reference(timestamp size, timestamp slide, timestamp offset,
                                   timestamp time) {
  std::vector<time_window> result;
  for (auto k = (time - size - offset) / slide - 2; k <= (time - offset) / slide + 2; ++k) {
    auto start = offset + k * slide;
    if (start <= time && time < start + size)
      result.push_back({start, start + size});
  }
  return result;
}

} // namespace

TEST_CASE("a sliding window of size 10 s and slide 1 s puts a record into ten windows") {
  sliding_window ten_by_one{10s, 1s};
  auto windows = windows_of(ten_by_one, 10'000);
  REQUIRE(windows.size() == 10);
  CHECK(windows.front() == time_window{1'000, 11'000});
  CHECK(windows.back() == time_window{10'000, 20'000}); // on the boundary: its first window
  CHECK_FALSE(ten_by_one.problem());
}

TEST_CASE("sliding windows whose size is not a multiple of the slide hold each time they cover") {
  for (auto [size, slide, offset] :
       {std::tuple{10, 3, 0}, std::tuple{10, 4, 1}, std::tuple{7, 5, -2}, std::tuple{3, 5, 0},
        std::tuple{1000, 333, 17}}) {
    INFO("size " << size << " slide " << slide << " offset " << offset);
    auto assigner =
      sliding_window{std::chrono::milliseconds{size}, std::chrono::milliseconds{slide}}.with_offset(
        std::chrono::milliseconds{offset});
    REQUIRE_FALSE(assigner.problem());
    for (timestamp time = -2 * size; time < 3 * size; ++time) {
      INFO("time " << time);
      CHECK(windows_of(assigner, time) == reference(size, slide, offset, time));
    }
  }
}

TEST_CASE("a sliding window with a size or slide of zero or less, or a large offset, is refused") {
  auto size = sliding_window{0ms, 1s}.problem();
  REQUIRE(size);
  CHECK(size->find("sliding window size must be positive") != std::string::npos);
  auto slide = sliding_window{10s, -1s}.problem();
  REQUIRE(slide);
  CHECK(slide->find("sliding window slide must be positive") != std::string::npos);
  auto offset = sliding_window{10s, 1s}.with_offset(1s).problem();
  REQUIRE(offset);
  CHECK(offset->find("offset") != std::string::npos);
}
