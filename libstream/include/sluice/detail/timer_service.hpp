#pragma once

#include <algorithm>
#include <concepts>
#include <cstddef>
#include <deque>
#include <iterator>
#include <memory>
#include <optional>
#include <queue>
#include <utility>
#include <vector>

#include "sluice/detail/pending_times.hpp"
#include "sluice/key_group.hpp"
#include "sluice/keyed_table.hpp"
#include "sluice/record.hpp"

namespace sluice::detail {

/// The timers of one time domain of an operator instance: per key, the times at which the
/// operator asked to be called back (Flink's `InternalTimerService`, one per domain).
///
/// The timers themselves are keyed state: a table of each key's pending times, so they
/// are checkpointed, restored and rescaled with their key groups like any other state. Beside
/// it, in memory, the (time, key) of each timer in time order, without a scan of the state per
/// watermark: a queue for timers added in time order (most are: a record's time plus a delay,
/// or a window's end), appended at no cost, and a min-heap for the others. Both are rebuilt
/// from the table once, when the service opens (all into the queue, sorted). A timer is there
/// once per key and time (registering it again changes nothing); deleting one leaves its entry,
/// which is skipped when it comes up.
template <class K>
class timer_service {
public:
  using table_type = keyed_table<K, pending_times>;

  explicit timer_service(std::shared_ptr<table_type> table) : table_(std::move(table)) {
    std::vector<entry> all;
    table_->for_each([&](const K& key, const pending_times& times) {
      for (auto t : times.to_vector())
        all.push_back({t, key});
    });
    std::sort(all.begin(), all.end(), [](const entry& a, const entry& b) { return later{}(b, a); });
    in_order_.assign(std::make_move_iterator(all.begin()), std::make_move_iterator(all.end()));
  }

  /// Asks for a callback for `key` at `time`; nothing if that timer is pending already.
  void add(const K& key, timestamp time) {
    if (!table_->upsert(key).add(time))
      return;
    if (in_order_.empty() || in_order_.back().time <= time)
      in_order_.push_back({time, key});
    else
      heap_.push({time, key});
  }

  /// Cancels the timer of `key` at `time`; false if it was not pending.
  bool remove(const K& key, timestamp time) {
    // One lookup where the timer is pending (when it fires, nearly always), two where the key
    // has no timer left.
    auto& times = table_->upsert(key);
    bool found = times.remove(time);
    if (times.empty())
      table_->erase(key);
    return found;
  }

  /// Fires every pending timer at or before `time`, earliest first and by key within a time,
  /// through `fire(key, time)`, each once and after it left the pending timers. A timer that
  /// `fire` adds at or before `time` fires in this call too.
  template <class Fire>
  void advance_to(timestamp time, Fire&& fire) {
    for (auto next = next_time(); next && *next <= time; next = next_time()) {
      // The timers of one time, from the queue and the heap, in key order: the order of an
      // instance restored from a checkpoint, which holds them all in the queue.
      due_.clear();
      while (!in_order_.empty() && in_order_.front().time == *next) {
        due_.push_back(std::move(in_order_.front().key));
        in_order_.pop_front();
      }
      while (!heap_.empty() && heap_.top().time == *next) {
        due_.push_back(heap_.top().key);
        heap_.pop();
      }
      if (due_.size() > 1)
        std::sort(due_.begin(), due_.end(), key_less{});
      for (const auto& key : due_)
        if (remove(key, *next))
          fire(key, *next);
    }
  }

  /// The time of the earliest pending timer, if any.
  [[nodiscard]] std::optional<timestamp> earliest() {
    for (;;) {
      bool from_queue =
        !in_order_.empty() && (heap_.empty() || in_order_.front().time <= heap_.top().time);
      if (from_queue) {
        if (pending(in_order_.front().key, in_order_.front().time))
          return in_order_.front().time;
        in_order_.pop_front();
      } else if (!heap_.empty()) {
        if (pending(heap_.top().key, heap_.top().time))
          return heap_.top().time;
        heap_.pop();
      } else {
        return std::nullopt;
      }
    }
  }

  /// The pending times of `key`, earliest first.
  [[nodiscard]] std::vector<timestamp> of(const K& key) {
    const auto* times = table_->find(key);
    return times ? times->to_vector() : std::vector<timestamp>{};
  }

private:
  struct entry {
    timestamp time;
    K key;
  };

  /// Orders keys of one time: by the keys, or, for keys without an order, by their hashes.
  struct key_less {
    bool operator()(const K& a, const K& b) const {
      if constexpr (std::totally_ordered<K>)
        return a < b;
      else
        return key_hash<K>{}(a) < key_hash<K>{}(b);
    }
  };

  /// Orders the heap earliest first, keys breaking ties.
  struct later {
    bool operator()(const entry& a, const entry& b) const {
      if (a.time != b.time)
        return a.time > b.time;
      return key_less{}(b.key, a.key);
    }
  };

  /// The time of the earliest timer held (pending or deleted), if any.
  [[nodiscard]] std::optional<timestamp> next_time() const {
    if (in_order_.empty() && heap_.empty())
      return std::nullopt;
    if (in_order_.empty())
      return heap_.top().time;
    if (heap_.empty())
      return in_order_.front().time;
    return std::min(in_order_.front().time, heap_.top().time);
  }

  [[nodiscard]] bool pending(const K& key, timestamp time) {
    const auto* times = table_->find(key);
    return times && times->contains(time);
  }

  std::shared_ptr<table_type> table_;
  std::deque<entry> in_order_;
  std::priority_queue<entry, std::vector<entry>, later> heap_;
  /// The keys of the timers firing now (kept to reuse its memory).
  std::vector<K> due_;
};

} // namespace sluice::detail
