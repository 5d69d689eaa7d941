#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>

#include "sluice/time_domain.hpp"
#include "sluice/windows/time_window.hpp"

namespace sluice {

/// Windows of activity separated by gaps (Flink's EventTimeSessionWindows): a record at time t
/// opens the window [t, t + gap), and windows of one key that overlap or touch merge into one
/// session, also when a late record bridges two of them.
///
///     time ──────────────────────────────────────────────>
///          x  x x     x           x x   x          (records of one key)
///          [ session 1    )       [ session 2  )
class session_window {
public:
  /// Sessions in event time that end `gap` after their last record.
  explicit session_window(std::chrono::milliseconds gap) : gap_(gap) {}

  /// The same sessions of processing time.
  [[nodiscard]] session_window in_processing_time() const {
    auto result = *this;
    result.domain_ = time_domain::processing_time;
    return result;
  }

  [[nodiscard]] time_domain domain() const noexcept { return domain_; }

  /// Sessions merge.
  static constexpr bool merging = true;

  /// What is wrong with these windows' parameters, if anything.
  [[nodiscard]] std::optional<std::string> problem() const {
    return positive_length("session window gap", gap_);
  }

  /// Calls `each(window)` for the window a record at `time` opens.
  template <class T, class Each>
  void assign(const T& /*value*/, timestamp time, Each&& each) const {
    each(time_window{time, time + gap_.count()});
  }

private:
  std::chrono::milliseconds gap_;
  time_domain domain_ = time_domain::event_time;
};

/// Sessions whose gap each record gives (Flink's withDynamicGap): `gap(value)` returns a
/// `std::chrono::milliseconds`; a record's window is [t, t + gap(value)), and windows merge as
/// session_window's do.
template <class GapFn>
class dynamic_session_window {
public:
  explicit dynamic_session_window(GapFn gap) : gap_(std::move(gap)) {}

  [[nodiscard]] dynamic_session_window in_processing_time() const {
    auto result = *this;
    result.domain_ = time_domain::processing_time;
    return result;
  }

  [[nodiscard]] time_domain domain() const noexcept { return domain_; }

  static constexpr bool merging = true;

  [[nodiscard]] std::optional<std::string> problem() const { return std::nullopt; }

  /// Calls `each(window)` for the window a record at `time` opens.
  /// @throws std::invalid_argument if the record's gap is not positive: the record is a failure
  /// of the operator's function (or a dead letter under failure_policy::skip).
  template <class T, class Each>
  void assign(const T& value, timestamp time, Each&& each) const {
    std::chrono::milliseconds gap = std::invoke(gap_, value);
    if (auto p = positive_length("a record's session window gap", gap))
      throw std::invalid_argument(*p);
    each(time_window{time, time + gap.count()});
  }

private:
  GapFn gap_;
  time_domain domain_ = time_domain::event_time;
};

} // namespace sluice
