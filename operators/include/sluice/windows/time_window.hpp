#pragma once

#include <algorithm>
#include <chrono>
#include <compare>
#include <optional>
#include <string>

#include <caf/meta/type_name.hpp>

#include "sluice/record.hpp"

namespace sluice {

/// A window of time: the records whose timestamp t has start <= t < end.
struct time_window {
  timestamp start = 0;
  timestamp end = 0;

  /// The largest timestamp in the window, at which an event-time window fires.
  [[nodiscard]] constexpr timestamp max_timestamp() const noexcept { return end - 1; }

  /// Whether the two windows overlap or touch, so that session windows merge them (as Flink's
  /// TimeWindow#intersects: [0, 10) and [10, 20) do).
  [[nodiscard]] constexpr bool intersects(const time_window& other) const noexcept {
    return start <= other.end && other.start <= end;
  }

  /// The smallest window that covers both.
  [[nodiscard]] constexpr time_window cover(const time_window& other) const noexcept {
    return {std::min(start, other.start), std::max(end, other.end)};
  }

  friend constexpr auto operator<=>(const time_window&, const time_window&) = default;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, time_window& x) {
  return f(caf::meta::type_name("sluice.time_window"), x.start, x.end);
}

/// The start of the window of length `size` that holds `time`, windows starting at multiples of
/// `size` shifted by `offset`: time rounded down, also for times before the epoch.
[[nodiscard]] constexpr timestamp window_start(timestamp time, timestamp offset,
                                               timestamp size) noexcept {
  auto remainder = (time - offset) % size;
  if (remainder < 0)
    remainder += size;
  return time - remainder;
}

/// The problem with a window length of `value` ms given as `what` (say "size"), if it is not
/// positive.
[[nodiscard]] inline std::optional<std::string> positive_length(const char* what,
                                                                std::chrono::milliseconds value) {
  if (value.count() > 0)
    return std::nullopt;
  return std::string{what} + " must be positive (was " + std::to_string(value.count()) + " ms)";
}

} // namespace sluice
