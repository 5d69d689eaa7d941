#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "sluice/time_domain.hpp"
#include "sluice/windows/time_window.hpp"

namespace sluice {

/// Windows of a fixed size that do not overlap (Flink's TumblingEventTimeWindows and
/// TumblingProcessingTimeWindows): each record falls into the one window [start, start + size)
/// with start a multiple of size (shifted by the offset) at or before its time.
///
///     time ──────────────────────────────────────────────>
///          [ window 1 ) [ window 2 ) [ window 3 ) ...
class tumbling_window {
public:
  /// Windows of `size` in event time, starting at multiples of `size` since the epoch.
  explicit tumbling_window(std::chrono::milliseconds size) : size_(size) {}

  /// The same windows started `offset` later (say 15 min for hours that start at :15).
  [[nodiscard]] tumbling_window with_offset(std::chrono::milliseconds offset) const {
    auto result = *this;
    result.offset_ = offset;
    return result;
  }

  /// The same windows of processing time: a record falls into the window of the instance's
  /// clock when it arrives.
  [[nodiscard]] tumbling_window in_processing_time() const {
    auto result = *this;
    result.domain_ = time_domain::processing_time;
    return result;
  }

  [[nodiscard]] time_domain domain() const noexcept { return domain_; }

  /// Windows never merge.
  static constexpr bool merging = false;

  /// What is wrong with these windows' parameters, if anything.
  [[nodiscard]] std::optional<std::string> problem() const {
    if (auto p = positive_length("tumbling window size", size_))
      return p;
    if (offset_ <= -size_ || offset_ >= size_)
      return "tumbling window offset must be smaller than its size in magnitude (was "
             + std::to_string(offset_.count()) + " ms for " + std::to_string(size_.count())
             + " ms)";
    return std::nullopt;
  }

  /// Calls `each(window)` for the window of a record at `time`.
  template <class T, class Each>
  void assign(const T& /*value*/, timestamp time, Each&& each) const {
    auto start = window_start(time, offset_.count(), size_.count());
    each(time_window{start, start + size_.count()});
  }

private:
  std::chrono::milliseconds size_;
  std::chrono::milliseconds offset_{0};
  time_domain domain_ = time_domain::event_time;
};

} // namespace sluice
