#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "sluice/time_domain.hpp"
#include "sluice/windows/time_window.hpp"

namespace sluice {

/// Windows of a fixed size that start every `slide` (Flink's SlidingEventTimeWindows and
/// SlidingProcessingTimeWindows): a record falls into every window [start, start + size) that
/// holds its time, about size / slide of them. The size need not be a multiple of the slide.
///
///     time ──────────────────────────────────────────────>
///          [ window 1        )
///               [ window 2        )
///                    [ window 3        )
class sliding_window {
public:
  /// Windows of `size` in event time, one starting at each multiple of `slide` since the epoch.
  sliding_window(std::chrono::milliseconds size, std::chrono::milliseconds slide)
    : size_(size), slide_(slide) {}

  /// The same windows started `offset` later.
  [[nodiscard]] sliding_window with_offset(std::chrono::milliseconds offset) const {
    auto result = *this;
    result.offset_ = offset;
    return result;
  }

  /// The same windows of processing time.
  [[nodiscard]] sliding_window in_processing_time() const {
    auto result = *this;
    result.domain_ = time_domain::processing_time;
    return result;
  }

  [[nodiscard]] time_domain domain() const noexcept { return domain_; }

  /// Windows never merge.
  static constexpr bool merging = false;

  /// What is wrong with these windows' parameters, if anything.
  [[nodiscard]] std::optional<std::string> problem() const {
    if (auto p = positive_length("sliding window size", size_))
      return p;
    if (auto p = positive_length("sliding window slide", slide_))
      return p;
    if (offset_ <= -slide_ || offset_ >= slide_)
      return "sliding window offset must be smaller than its slide in magnitude (was "
             + std::to_string(offset_.count()) + " ms for " + std::to_string(slide_.count())
             + " ms)";
    return std::nullopt;
  }

  /// Calls `each(window)` for each window that holds a record at `time`, latest first.
  template <class T, class Each>
  void assign(const T& /*value*/, timestamp time, Each&& each) const {
    auto size = size_.count();
    auto slide = slide_.count();
    for (auto start = window_start(time, offset_.count(), slide); start > time - size;
         start -= slide)
      each(time_window{start, start + size});
  }

private:
  std::chrono::milliseconds size_;
  std::chrono::milliseconds slide_;
  std::chrono::milliseconds offset_{0};
  time_domain domain_ = time_domain::event_time;
};

} // namespace sluice
