#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include "sluice/record.hpp"
#include "sluice/watermark_strategy.hpp"

namespace sluice {

/// The watermark of a source made from the watermarks of its splits (Flink's
/// WatermarkOutputMultiplexer). Each split has its own copy of a watermark generator, fed the
/// split's records; the source's watermark is the minimum over the splits that are not idle.
/// A split holds the watermark back from its first record until it ends; it is idle once it had
/// no record for the idleness (a steady clock's, looked at in `combine`), and the source is idle
/// when every split is.
template <class Generator>
class split_watermarks {
public:
  using clock = std::chrono::steady_clock;

  /// The source's watermark and idleness after `combine`.
  struct combined {
    /// The minimum over the splits that are not idle; min_timestamp when one has none yet.
    timestamp watermark = min_timestamp;
    /// Every split is idle (false when there is none).
    bool idle = false;
  };

  /// Idleness zero: a split is never idle by the clock.
  split_watermarks(Generator generator, std::chrono::milliseconds idleness)
    : prototype_(std::move(generator)), idleness_(idleness) {}

  /// The records that follow come from split `id` (split 0 until a source says otherwise).
  void begin(uint64_t id) {
    if (is_current(id))
      return;
    auto it = std::find_if(splits_.begin(), splits_.end(), [id](auto& s) { return s.id == id; });
    if (it == splits_.end()) {
      splits_.emplace_back(id, prototype_);
      it = std::prev(splits_.end());
    }
    current_ = static_cast<size_t>(it - splits_.begin());
  }

  /// The records come from split `id`.
  [[nodiscard]] bool is_current(uint64_t id) const noexcept {
    return current_ < splits_.size() && splits_[current_].id == id;
  }

  /// Split `id` has no more records: it no longer holds the watermark back.
  void end(uint64_t id) {
    auto it = std::find_if(splits_.begin(), splits_.end(), [id](auto& s) { return s.id == id; });
    if (it == splits_.end())
      return;
    auto index = static_cast<size_t>(it - splits_.begin());
    bool had_current = current_ < splits_.size();
    splits_.erase(it);
    if (!had_current || current_ == index)
      current_ = splits_.size();
    else if (current_ > index)
      --current_;
  }

  /// A record of the current split, at event time `time`.
  template <class T>
  void on_event(const T& value, timestamp time) {
    if (current_ >= splits_.size())
      begin(0);
    auto& s = splits_[current_];
    s.had_record = true;
    s.generator.on_event(value, time, s.out);
  }

  /// Gives every split's generator its periodic call, marks the splits idle that had no record
  /// for the idleness, and combines what they say.
  combined combine(clock::time_point now) {
    combined result{max_timestamp, !splits_.empty()};
    for (auto& s : splits_) {
      if (std::exchange(s.had_record, false) || !s.last_record) {
        s.last_record = now;
        s.out.mark_active();
      }
      s.generator.on_periodic_emit(s.out);
      if (idleness_.count() > 0 && now - *s.last_record >= idleness_)
        s.out.mark_idle();
      if (s.out.idle())
        continue;
      result.idle = false;
      result.watermark = std::min(result.watermark, s.out.watermark());
    }
    if (result.idle || splits_.empty())
      result.watermark = min_timestamp;
    return result;
  }

  /// When the next split that is not idle turns idle, if no record comes for it.
  [[nodiscard]] std::optional<clock::time_point> next_idle() const {
    std::optional<clock::time_point> at;
    if (idleness_.count() <= 0)
      return at;
    for (const auto& s : splits_) {
      if (!s.out.idle() && s.last_record)
        at = std::min(at.value_or(clock::time_point::max()), *s.last_record + idleness_);
    }
    return at;
  }

private:
  struct split {
    split(uint64_t split_id, Generator g) : id(split_id), generator(std::move(g)) {}

    uint64_t id;
    Generator generator;
    watermark_output out;
    /// A record came since the last `combine`.
    bool had_record = false;
    /// When the split's last record came, as `combine` saw it (none: not yet looked at).
    std::optional<clock::time_point> last_record;
  };

  Generator prototype_;
  std::chrono::milliseconds idleness_;
  std::vector<split> splits_;
  /// The split the records come from; splits_.size() when none is current.
  size_t current_ = 0;
};

} // namespace sluice
