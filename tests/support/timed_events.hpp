#pragma once

// Records (key, event time) and the counts per key and window that event-time tests compare.

#include <algorithm>
#include <cstdint>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "sluice/all.hpp"

namespace sluice::test {

/// A record of the event-time tests: (key, event time).
using timed_event = std::pair<std::string, timestamp>;

/// The event time a timed_event carries.
inline timestamp time_of_event(const timed_event& e) {
  return e.second;
}

/// A window's result as the tests compare it: key, start, end, count.
using window_count = std::tuple<std::string, timestamp, timestamp, uint64_t>;

/// The counts of `results` (window_results of a count), sorted.
template <class Results>
std::vector<window_count> counts_of(const Results& results) {
  std::vector<window_count> counts;
  for (const auto& r : results)
    counts.emplace_back(r.key, r.window.start, r.window.end, static_cast<uint64_t>(r.value));
  std::sort(counts.begin(), counts.end());
  return counts;
}

} // namespace sluice::test
