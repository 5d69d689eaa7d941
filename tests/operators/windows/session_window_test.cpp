// session windows: a record opens [t, t + gap), static or per record; bad gaps are refused

#include <catch2/catch.hpp>

#include <chrono>
#include <stdexcept>
#include <vector>

#include "sluice/windows/session_window.hpp"

using namespace sluice;
using namespace std::chrono_literals;

namespace {

template <class Assigner, class T>
std::vector<time_window> windows_of(const Assigner& assigner, const T& value, timestamp time) {
  std::vector<time_window> result;
  assigner.assign(value, time, [&](time_window w) { result.push_back(w); });
  return result;
}

} // namespace

TEST_CASE("a record opens a session window of the gap from its time") {
  session_window sessions{30min};
  CHECK(windows_of(sessions, 0, 1'000) == std::vector{time_window{1'000, 1'801'000}});
  CHECK(session_window::merging);
  CHECK(sessions.domain() == time_domain::event_time);
  CHECK(sessions.in_processing_time().domain() == time_domain::processing_time);
  CHECK_FALSE(sessions.problem());
}

TEST_CASE("a dynamic session gap comes from the record") {
  dynamic_session_window sessions{[](const int& minutes) { return std::chrono::minutes{minutes}; }};
  CHECK(windows_of(sessions, 2, 1'000) == std::vector{time_window{1'000, 121'000}});
  CHECK(windows_of(sessions, 1, 0) == std::vector{time_window{0, 60'000}});
}

TEST_CASE("a session gap of zero or less is refused, and a record's such gap throws") {
  auto problem = session_window{0ms}.problem();
  REQUIRE(problem);
  CHECK(problem->find("session window gap must be positive") != std::string::npos);
  dynamic_session_window sessions{[](const int& ms) { return std::chrono::milliseconds{ms}; }};
  CHECK_THROWS_AS(windows_of(sessions, 0, 5), std::invalid_argument);
  CHECK_THROWS_WITH(windows_of(sessions, -3, 5), Catch::Contains("-3 ms"));
}
