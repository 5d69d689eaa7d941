#pragma once

#include <algorithm>
#include <cstddef>
#include <vector>

#include "sluice/record.hpp"

namespace sluice {

/// Combines the watermarks of several input channels into the watermark of an operator.
///
/// The combined watermark is the minimum over the channels that are neither idle nor ended,
/// and it never goes back. An ended channel stands at `max_timestamp`, so when every channel
/// has ended, or every channel left open is idle, the watermark is `max_timestamp`. When every
/// channel is idle and none has ended, it is the largest of their watermarks. (Flink's
/// watermark valve does the same: idle inputs never hold a watermark back.)
class watermark_tracker {
public:
  watermark_tracker() = default;
  explicit watermark_tracker(size_t channels) : channels_(channels) {}

  void resize(size_t channels) { channels_.resize(channels); }

  /// Records a watermark of one channel; returns true if the combined watermark advanced.
  bool advance(size_t channel, timestamp time);

  /// Marks a channel idle or active; returns true if the combined watermark advanced.
  bool set_idle(size_t channel, bool idle);

  /// Marks a channel ended; returns true if the combined watermark advanced.
  bool end(size_t channel);

  [[nodiscard]] timestamp current() const noexcept { return current_; }

  /// Starts the combined watermark at `time` (a restored checkpoint's): it stays there until the
  /// channels' watermarks pass it.
  void start_at(timestamp time) noexcept { current_ = std::max(current_, time); }

  /// True when every channel that has not ended is idle (and at least one has not ended).
  [[nodiscard]] bool all_idle() const noexcept;

  /// True once `channel` has ended, and once every channel has.
  [[nodiscard]] bool ended(size_t channel) const { return channels_.at(channel).ended; }
  [[nodiscard]] bool all_ended() const noexcept;

private:
  struct channel_state {
    timestamp time = min_timestamp;
    bool idle = false;
    bool ended = false;
  };

  bool recompute();

  std::vector<channel_state> channels_;
  timestamp current_ = min_timestamp;
};

} // namespace sluice
