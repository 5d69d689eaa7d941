#pragma once

#include <algorithm>
#include <concepts>
#include <cstddef>
#include <memory>
#include <optional>
#include <queue>
#include <utility>
#include <vector>

#include "sluice/key_group.hpp"
#include "sluice/keyed_table.hpp"
#include "sluice/record.hpp"

namespace sluice::detail {

/// The timers of one time domain of an operator instance: per key, the times at which the
/// operator asked to be called back (Flink's `InternalTimerService`, one per domain).
///
/// The timers themselves are keyed state: a table of each key's pending times, sorted, so they
/// are checkpointed, restored and rescaled with their key groups like any other state. Beside
/// it, an in-memory min-heap of (time, key) gives them in time order without a scan of the state
/// per watermark; it is rebuilt from the table once, when the service opens. A timer is there
/// once per key and time (registering it again changes nothing); deleting one leaves its heap
/// entry, which is skipped when it comes up.
template <class K>
class timer_service {
public:
  using table_type = keyed_table<K, std::vector<timestamp>>;

  explicit timer_service(std::shared_ptr<table_type> table) : table_(std::move(table)) {
    table_->for_each([this](const K& key, const std::vector<timestamp>& times) {
      for (auto t : times)
        heap_.push({t, key});
    });
  }

  /// Asks for a callback for `key` at `time`; nothing if that timer is pending already.
  void add(const K& key, timestamp time) {
    auto& times = table_->upsert(key);
    auto at = std::lower_bound(times.begin(), times.end(), time);
    if (at != times.end() && *at == time)
      return;
    times.insert(at, time);
    heap_.push({time, key});
  }

  /// Cancels the timer of `key` at `time`; false if it was not pending.
  bool remove(const K& key, timestamp time) {
    // One lookup where the timer is pending (when it fires, nearly always), two where the key
    // has no timer left.
    auto& times = table_->upsert(key);
    auto at = std::lower_bound(times.begin(), times.end(), time);
    bool found = at != times.end() && *at == time;
    if (found)
      times.erase(at);
    if (times.empty())
      table_->erase(key);
    return found;
  }

  /// Fires every pending timer at or before `time`, earliest first, through `fire(key, time)`,
  /// each once and after it left the pending timers. A timer that `fire` adds at or before
  /// `time` fires in this call too.
  template <class Fire>
  void advance_to(timestamp time, Fire&& fire) {
    while (!heap_.empty() && heap_.top().time <= time) {
      auto next = heap_.top();
      heap_.pop();
      if (remove(next.key, next.time))
        fire(next.key, next.time);
    }
  }

  /// The time of the earliest pending timer, if any.
  [[nodiscard]] std::optional<timestamp> earliest() {
    while (!heap_.empty() && !pending(heap_.top().key, heap_.top().time))
      heap_.pop();
    if (heap_.empty())
      return std::nullopt;
    return heap_.top().time;
  }

  /// The pending times of `key`, earliest first.
  [[nodiscard]] std::vector<timestamp> of(const K& key) {
    const auto* times = table_->find(key);
    return times ? *times : std::vector<timestamp>{};
  }

private:
  struct entry {
    timestamp time;
    K key;
  };

  /// Orders the heap earliest first; keys (or, for keys without an order, their hashes) break
  /// ties, so that the firing order does not depend on the order timers were added in (a
  /// restored instance adds them in the table's order).
  struct later {
    bool operator()(const entry& a, const entry& b) const {
      if (a.time != b.time)
        return a.time > b.time;
      if constexpr (std::totally_ordered<K>)
        return b.key < a.key;
      else
        return key_hash<K>{}(b.key) < key_hash<K>{}(a.key);
    }
  };

  [[nodiscard]] bool pending(const K& key, timestamp time) {
    const auto* times = table_->find(key);
    return times && std::binary_search(times->begin(), times->end(), time);
  }

  std::shared_ptr<table_type> table_;
  std::priority_queue<entry, std::vector<entry>, later> heap_;
};

} // namespace sluice::detail
