#pragma once

#include <algorithm>
#include <cstddef>
#include <map>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "sluice/detail/pending_times.hpp"
#include "sluice/detail/timer_queue.hpp"
#include "sluice/detail/timer_spill.hpp"
#include "sluice/keyed_table.hpp"
#include "sluice/record.hpp"
#include "sluice/state_codec.hpp"

namespace sluice::detail {

/// The timers of one time domain of an operator instance: per key, the times at which the
/// operator asked to be called back (Flink's `InternalTimerService`, one per domain).
///
/// Timers are held as (time, key) in time order, without a scan of the state per watermark
/// and without a lookup per timer: in memory, a timer_queue; with a spill, the latest timers
/// on disk once more than `memory_limit` are held in memory, every timer held in memory earlier
/// than every timer spilled. A timer registered twice fires once (the timers of one time are
/// merged by key when they fire). A deleted timer stays where it is, noted apart until its time
/// has passed, and is skipped when it comes up; deletions are few.
///
/// The timers are keyed state: a table of each key's pending times, so they are checkpointed,
/// restored and rescaled with their key groups like any other state, and the order is rebuilt
/// from the table when the service opens. The table is brought up to date when a checkpoint is
/// taken (`persist`), not per timer: a timer that fires between two checkpoints never touches
/// it. Timers that fire or are deleted after a checkpoint wrote them leave the table then.
template <class K>
class timer_service {
public:
  using table_type = keyed_table<K, pending_times>;

  /// The timers of `table`, all held in memory.
  explicit timer_service(std::shared_ptr<table_type> table) : table_(std::move(table)) {
    rebuild();
  }

  /// The timers of `table`, about `memory_limit` of them held in memory at most and the later
  /// ones in `spill`.
  timer_service(std::shared_ptr<table_type> table, std::unique_ptr<timer_spill> spill,
                size_t memory_limit) requires storable<K>
    : table_(std::move(table)),
      spill_(std::move(spill)),
      memory_limit_(std::max<size_t>(memory_limit, 2)) {
    rebuild();
  }

  /// Asks for a callback for `key` at `time`; nothing more if that timer is pending already.
  void add(const K& key, timestamp time) { insert(key, time, true); }

  /// As `add`, for a timer that the caller knows is not pending (a window's cleanup as the
  /// window opens): it skips the look for it. One that is pending would fire once all the same.
  void add_new(const K& key, timestamp time) { insert(key, time, false); }

  /// Cancels the timer of `key` at `time`, if it is pending.
  void remove(const K& key, timestamp time) {
    remove_from_table(key, time);
    auto& keys = deleted_[time];
    if (std::find(keys.begin(), keys.end(), key) == keys.end())
      keys.push_back(key);
  }

  /// As below, prefetching nothing.
  template <class Fire>
  void advance_to(timestamp time, Fire&& fire) {
    advance_to(time, std::forward<Fire>(fire), [](const K&) {});
  }

  /// Fires every pending timer at or before `time`, earliest first and by key within a time,
  /// through `fire(key, time)`, each once and after it left the pending timers. A timer that
  /// `fire` adds at or before `time` fires in this call too. `prefetch(key)` is called for
  /// the keys of timers about to fire a few timers ahead, so that their state is loaded
  /// meanwhile (see keyed_lookup::prefetch).
  template <class Fire, class Prefetch>
  void advance_to(timestamp time, Fire&& fire, Prefetch&& prefetch) {
    queue_.prefetch_due(time, prefetch_distance, prefetch);
    for (auto next = next_time(); next && *next <= time; next = next_time()) {
      if (queue_.empty()) {
        take_from_spill(); // the next timers are due: into memory with them
        continue;
      }
      queue_.take_due(*next, due_);
      queue_.prefetch_due(time, prefetch_distance, prefetch);
      for (const auto& e : due_) {
        if (!deleted_.empty() && is_deleted(e.key, e.time))
          continue; // it left the table when deleted
        if (e.in_table)
          remove_from_table(e.key, e.time);
        fire(e.key, e.time);
      }
    }
    forget_passed_deletions();
  }

  /// The time of the earliest pending timer, if any.
  [[nodiscard]] std::optional<timestamp> earliest() {
    for (;;) {
      if (queue_.empty() && !take_from_spill())
        return std::nullopt;
      const auto& first = queue_.earliest();
      if (deleted_.empty() || !is_deleted(first.key, first.time))
        return first.time;
      queue_.pop_earliest();
    }
  }

  /// Writes the pending timers the table does not hold yet into it: before each checkpoint.
  void persist() {
    queue_.for_each([&](typename timer_queue<K>::entry& e) {
      if (e.in_table || (!deleted_.empty() && is_deleted(e.key, e.time)))
        return;
      table_->upsert(e.key).add(e.time);
      e.in_table = true;
    });
  }

  /// How many timers (pending or deleted) the service holds in memory.
  [[nodiscard]] size_t held_in_memory() const noexcept { return queue_.size(); }

private:
  using entry = typename timer_queue<K>::entry;

  /// How many timers ahead of the one firing `advance_to` prefetches.
  static constexpr size_t prefetch_distance = 16;

  /// Adds a timer, unless `may_repeat` and the queue shows it is pending already.
  void insert(const K& key, timestamp time, bool may_repeat) {
    if (!deleted_.empty())
      forget_deletion(key, time);
    if (spill_from_ && time >= *spill_from_) {
      to_spill({time, key});
      return;
    }
    if (may_repeat)
      queue_.push({time, key});
    else
      queue_.push_new({time, key});
    if (spill_ && queue_.size() > memory_limit_)
      spill_latest();
  }

  /// Builds the time order from the table: sorted into the queue, or, where more timers are
  /// pending than memory is to hold, all into the spill, to be taken from it in order.
  void rebuild() {
    std::vector<entry> all;
    bool spilled = false;
    table_->for_each([&](const K& key, const pending_times& times) {
      for (auto t : times.to_vector()) {
        all.push_back({t, key, true});
        if (spill_ && all.size() >= memory_limit_) {
          std::for_each(all.begin(), all.end(), [&](const entry& e) { to_spill(e); });
          all.clear();
          spilled = true;
        }
      }
    });
    if (spilled) {
      std::for_each(all.begin(), all.end(), [&](const entry& e) { to_spill(e); });
      spill_from_ = spill_->earliest();
      return;
    }
    std::sort(all.begin(), all.end(), [](const entry& a, const entry& b) {
      return a.time != b.time ? a.time < b.time : typename timer_queue<K>::key_less{}(a.key, b.key);
    });
    for (auto& e : all)
      queue_.push_new(std::move(e));
  }

  /// The time of the earliest timer held (pending or deleted) in memory, or if none, in the
  /// spill; none if there is none.
  [[nodiscard]] std::optional<timestamp> next_time() const {
    if (queue_.empty())
      return spill_from_;
    return queue_.earliest_time();
  }

  void remove_from_table(const K& key, timestamp time) {
    table_->modify(key, [&](pending_times& times) {
      times.remove(time);
      return times.empty();
    });
  }

  [[nodiscard]] bool is_deleted(const K& key, timestamp time) const {
    auto at = deleted_.find(time);
    return at != deleted_.end()
           && std::find(at->second.begin(), at->second.end(), key) != at->second.end();
  }

  /// The timer of `key` at `time` is registered again.
  void forget_deletion(const K& key, timestamp time) {
    auto at = deleted_.find(time);
    if (at == deleted_.end())
      return;
    std::erase(at->second, key);
    if (at->second.empty())
      deleted_.erase(at);
  }

  /// Forgets the deletions of times before every timer held: nothing is left for them to skip.
  void forget_passed_deletions() {
    if (deleted_.empty())
      return;
    auto next = next_time();
    deleted_.erase(deleted_.begin(), next ? deleted_.lower_bound(*next) : deleted_.end());
  }

  /// Memory holds more than its limit: moves the later half of what it holds to the spill.
  void spill_latest() {
    auto [later, bound] = queue_.take_later_half();
    for (const auto& e : later)
      to_spill(e);
    spill_from_ = bound;
  }

  /// Memory holds no timer: moves the earliest spilled ones (half the limit, and the rest of
  /// their last time) into the queue. False if the spill is empty.
  bool take_from_spill() {
    if (!spill_from_)
      return false;
    if constexpr (storable<K>) {
      for (auto& [time, key] : spill_->take(memory_limit_ / 2))
        queue_.push_new({time, decode_state<K>(key.data(), key.size()), true});
    }
    spill_from_ = spill_->earliest();
    return !queue_.empty();
  }

  /// Moves a timer to the spill; the table holds every spilled timer (the spill is not part of
  /// checkpoints), so it writes one the table does not hold yet there, unless it was deleted.
  void to_spill(const entry& e) {
    if constexpr (storable<K>) {
      if (!e.in_table) {
        if (!deleted_.empty() && is_deleted(e.key, e.time))
          return;
        table_->upsert(e.key).add(e.time);
      }
      encoded_.clear();
      state_writer{encoded_}.write(e.key);
      spill_->add(e.time, {encoded_.data(), encoded_.size()});
    }
  }

  std::shared_ptr<table_type> table_;
  /// The later timers, where memory is to hold no more than `memory_limit_`.
  std::unique_ptr<timer_spill> spill_;
  size_t memory_limit_ = 0;
  /// Timers at or after it are in the spill (none if not set).
  std::optional<timestamp> spill_from_;
  timer_queue<K> queue_;
  /// The keys of the deleted timers, by time, until every timer held is later.
  std::map<timestamp, std::vector<K>> deleted_;
  /// The timers firing now (kept to reuse its memory).
  std::vector<entry> due_;
  /// A key being spilled, encoded (kept to reuse its memory).
  std::vector<char> encoded_;
};

} // namespace sluice::detail
