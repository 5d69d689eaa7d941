#include "sluice/watermark_tracker.hpp"

#include <algorithm>

namespace sluice {

bool watermark_tracker::advance(size_t channel, timestamp time) {
  auto& ch = channels_.at(channel);
  ch.time = std::max(ch.time, time);
  ch.idle = false;
  return recompute();
}

bool watermark_tracker::set_idle(size_t channel, bool idle) {
  channels_.at(channel).idle = idle;
  return recompute();
}

bool watermark_tracker::end(size_t channel) {
  auto& ch = channels_.at(channel);
  ch.ended = true;
  ch.time = max_timestamp;
  return recompute();
}

bool watermark_tracker::all_idle() const noexcept {
  bool any_open = false;
  for (const auto& ch : channels_) {
    if (ch.ended)
      continue;
    if (!ch.idle)
      return false;
    any_open = true;
  }
  return any_open;
}

bool watermark_tracker::all_ended() const noexcept {
  return std::all_of(channels_.begin(), channels_.end(), [](const auto& ch) { return ch.ended; });
}

bool watermark_tracker::recompute() {
  auto combined = max_timestamp;
  auto largest_idle = min_timestamp;
  bool any_active = false;
  bool any_ended = false;
  for (const auto& ch : channels_) {
    if (ch.ended) {
      any_ended = true; // at max_timestamp: it never lowers the minimum
      continue;
    }
    if (ch.idle) {
      largest_idle = std::max(largest_idle, ch.time);
      continue;
    }
    any_active = true;
    combined = std::min(combined, ch.time);
  }
  if (!any_active && !any_ended)
    combined = largest_idle;
  if (combined <= current_)
    return false;
  current_ = combined;
  return true;
}

} // namespace sluice
