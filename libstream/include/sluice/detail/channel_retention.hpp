#pragma once

#include <algorithm>
#include <cstdint>
#include <deque>
#include <utility>
#include <variant>
#include <vector>

#include "sluice/detail/background_disposal.hpp"
#include "sluice/detail/channel_element.hpp"

namespace sluice::detail {

/// What one output channel keeps of what it sent, so that a restarted downstream instance can
/// have it again (docs/architecture.md, "Recovery").
///
/// A channel keeps everything sent since the barrier of the last completed checkpoint: `keep`
/// adds what was sent, `release` drops what came before a completed checkpoint's barrier, and
/// `rewind` hands back what was sent from some element on, to be sent again.
template <class T>
class channel_retention {
public:
  /// Records sent as elements `seq`, `seq + 1`, ...
  void keep(uint64_t seq, std::vector<record<T>>&& records) {
    if (records.empty())
      return;
    records_ += records.size();
    kept_.push_back({seq, std::move(records)});
  }

  /// A marker sent as element `seq`.
  void keep(uint64_t seq, channel_marker m) {
    if (const auto* b = std::get_if<barrier_msg>(&m))
      barriers_.emplace_back(b->checkpoint, seq + 1);
    kept_.push_back({seq, std::move(m)});
  }

  /// The first element kept, or `sent` when nothing is.
  [[nodiscard]] uint64_t first_kept(uint64_t sent) const noexcept {
    return kept_.empty() ? sent : kept_.front().seq;
  }

  /// Checkpoint `checkpoint` completed: drops what was sent before its barrier (everything
  /// below `sent`, when its barrier still waits to be sent). Returns the records dropped.
  uint64_t release(uint64_t checkpoint, uint64_t sent) {
    auto end = sent;
    for (const auto& [id, after] : barriers_)
      if (id == checkpoint)
        end = after;
    while (!barriers_.empty() && barriers_.front().first <= checkpoint)
      barriers_.pop_front();
    uint64_t dropped = 0;
    while (!kept_.empty() && kept_.front().seq < end) {
      dropped += records_in<T>(kept_.front().content);
      kept_.pop_front();
    }
    records_ -= dropped;
    return dropped;
  }

  /// Hands what was sent from element `seq` on to `put_back(segment&&)`, newest first, so that
  /// putting each in front of a backlog restores the order. Returns the records handed back.
  template <class PutBack>
  uint64_t rewind(uint64_t seq, PutBack&& put_back) {
    uint64_t handed = 0;
    while (!kept_.empty()) {
      auto& last = kept_.back();
      if (last.seq + std::max<uint64_t>(1, records_in<T>(last.content)) <= seq)
        break;
      auto* records = std::get_if<std::vector<record<T>>>(&last.content);
      if (records && last.seq < seq) {
        // Straddles `seq`: its tail goes back, its head stays.
        auto head = take_front(*records, static_cast<size_t>(seq - last.seq));
        handed += records->size();
        put_back(channel_segment<T>{std::move(*records)});
        last.content = std::move(head);
        break;
      }
      handed += records_in<T>(last.content);
      put_back(std::move(last.content));
      kept_.pop_back();
    }
    while (!barriers_.empty() && barriers_.back().second > seq)
      barriers_.pop_back();
    records_ -= handed;
    return handed;
  }

  /// The records kept.
  [[nodiscard]] uint64_t records() const noexcept { return records_; }

  /// Frees what is kept on a background thread (detail::dispose_in_background).
  void dispose() {
    if (!kept_.empty())
      dispose_in_background(std::move(kept_));
    kept_.clear();
    barriers_.clear();
    records_ = 0;
  }

private:
  struct kept_segment {
    uint64_t seq = 0;
    channel_segment<T> content;
  };

  std::deque<kept_segment> kept_;
  /// Per barrier kept: its checkpoint and the sequence number after it.
  std::deque<std::pair<uint64_t, uint64_t>> barriers_;
  uint64_t records_ = 0;
};

} // namespace sluice::detail
