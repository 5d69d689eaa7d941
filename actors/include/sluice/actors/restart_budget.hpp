#pragma once

#include <chrono>
#include <deque>
#include <random>
#include <string>

#include "sluice/supervision.hpp"

namespace sluice {

/// Counts a supervisor's restarts against its intensity and spaces them by its backoff.
class restart_budget {
public:
  using clock = std::chrono::steady_clock;

  explicit restart_budget(const supervision& s);

  /// Notes a restart now; false when it is one more than the intensity allows (give up).
  bool take();

  /// The delay before the restart just taken: the backoff for the restarts made within the
  /// window, with jitter.
  std::chrono::milliseconds delay();

  /// "5 restarts within 60000 ms": the limit, for error messages.
  [[nodiscard]] std::string limit() const;

private:
  restart_intensity intensity_;
  restart_backoff backoff_;
  std::deque<clock::time_point> restarts_;
  std::mt19937 random_{std::random_device{}()};
};

} // namespace sluice
