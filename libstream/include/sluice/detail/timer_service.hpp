#pragma once

#include <algorithm>
#include <concepts>
#include <cstddef>
#include <deque>
#include <iterator>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "sluice/detail/pending_times.hpp"
#include "sluice/detail/timer_spill.hpp"
#include "sluice/key_group.hpp"
#include "sluice/keyed_table.hpp"
#include "sluice/record.hpp"
#include "sluice/state_codec.hpp"

namespace sluice::detail {

/// The timers of one time domain of an operator instance: per key, the times at which the
/// operator asked to be called back (Flink's `InternalTimerService`, one per domain).
///
/// The timers themselves are keyed state: a table of each key's pending times, so they
/// are checkpointed, restored and rescaled with their key groups like any other state. Beside
/// it, the (time, key) of each timer in time order, without a scan of the state per watermark:
/// in memory, a queue for timers added in time order (most are: a record's time plus a delay,
/// or a window's end), appended at no cost, and a min-heap for the others; with a spill, the
/// latest timers on disk once more than `memory_limit` are held in memory, every timer held in
/// memory earlier than every timer spilled. The order is rebuilt from the table when the
/// service opens. A timer is there once per key and time (registering it again changes
/// nothing); deleting one leaves its entry, which is skipped when it comes up.
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

  /// The table of the pending times per key.
  [[nodiscard]] const std::shared_ptr<table_type>& table() const noexcept { return table_; }

  /// Asks for a callback for `key` at `time`; nothing if that timer is pending already.
  void add(const K& key, timestamp time) {
    if (!table_->upsert(key).add(time))
      return;
    if (spill_from_ && time >= *spill_from_) {
      to_spill({time, key});
      return;
    }
    if (in_order_.empty() || in_order_.back().time <= time) {
      in_order_.push_back({time, key});
    } else {
      heap_.push_back({time, key});
      std::push_heap(heap_.begin(), heap_.end(), later{});
    }
    if (spill_ && held_in_memory() > memory_limit_)
      spill_latest();
  }

  /// As above, prefetching nothing.
  template <class Fire>
  void advance_to(timestamp time, Fire&& fire) {
    advance_to(time, std::forward<Fire>(fire), [](const K&) {});
  }

  /// Cancels the timer of `key` at `time`; false if it was not pending.
  bool remove(const K& key, timestamp time) {
    bool found = false;
    table_->modify(key, [&](pending_times& times) {
      found = times.remove(time);
      return times.empty();
    });
    return found;
  }

  /// Fires every pending timer at or before `time`, earliest first and by key within a time,
  /// through `fire(key, time)`, each once and after it left the pending timers. A timer that
  /// `fire` adds at or before `time` fires in this call too. `prefetch(key)` is called for
  /// the keys of timers about to fire a few timers ahead, so that their state is loaded
  /// meanwhile (see keyed_lookup::prefetch).
  template <class Fire, class Prefetch>
  void advance_to(timestamp time, Fire&& fire, Prefetch&& prefetch) {
    size_t prefetched = 0; // of the queue's first entries
    auto prefetch_ahead = [&] {
      for (; prefetched < prefetch_distance && prefetched < in_order_.size()
             && in_order_[prefetched].time <= time;
           ++prefetched)
        prefetch(std::as_const(in_order_[prefetched].key));
    };
    prefetch_ahead();
    for (auto next = next_time(); next && *next <= time; next = next_time()) {
      if (in_order_.empty() && heap_.empty()) {
        take_from_spill(); // the next timers are due: into memory with them
        continue;
      }
      // The timers of one time, from the queue and the heap, in key order: the order of an
      // instance restored from a checkpoint, which holds them all in the queue.
      due_.clear();
      while (!in_order_.empty() && in_order_.front().time == *next) {
        due_.push_back(std::move(in_order_.front().key));
        in_order_.pop_front();
        prefetched -= prefetched > 0 ? 1 : 0;
      }
      prefetch_ahead();
      while (!heap_.empty() && heap_.front().time == *next)
        due_.push_back(pop_heap_top().key);
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
      if (in_order_.empty() && heap_.empty() && !take_from_spill())
        return std::nullopt;
      bool from_queue =
        !in_order_.empty() && (heap_.empty() || in_order_.front().time <= heap_.front().time);
      if (from_queue) {
        if (pending(in_order_.front().key, in_order_.front().time))
          return in_order_.front().time;
        in_order_.pop_front();
      } else {
        if (pending(heap_.front().key, heap_.front().time))
          return heap_.front().time;
        pop_heap_top();
      }
    }
  }

  /// The pending times of `key`, earliest first.
  [[nodiscard]] std::vector<timestamp> of(const K& key) {
    const auto* times = table_->find(key);
    return times ? times->to_vector() : std::vector<timestamp>{};
  }

  /// How many timers (pending or deleted) the service holds in memory.
  [[nodiscard]] size_t held_in_memory() const noexcept { return in_order_.size() + heap_.size(); }

private:
  struct entry {
    timestamp time;
    K key;
  };

  /// How many timers ahead of the one firing `advance_to` prefetches.
  static constexpr size_t prefetch_distance = 16;

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

  /// Builds the time order from the table: sorted into the queue, or, where more timers are
  /// pending than memory is to hold, all into the spill, to be taken from it in order.
  void rebuild() {
    std::vector<entry> all;
    bool spilled = false;
    table_->for_each([&](const K& key, const pending_times& times) {
      for (auto t : times.to_vector()) {
        all.push_back({t, key});
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
    std::sort(all.begin(), all.end(), [](const entry& a, const entry& b) { return later{}(b, a); });
    in_order_.assign(std::make_move_iterator(all.begin()), std::make_move_iterator(all.end()));
  }

  /// The time of the earliest timer held (pending or deleted) in memory, or if none, in the
  /// spill; none if there is none.
  [[nodiscard]] std::optional<timestamp> next_time() const {
    if (in_order_.empty() && heap_.empty())
      return spill_from_;
    if (in_order_.empty())
      return heap_.front().time;
    if (heap_.empty())
      return in_order_.front().time;
    return std::min(in_order_.front().time, heap_.front().time);
  }

  [[nodiscard]] bool pending(const K& key, timestamp time) {
    const auto* times = table_->find(key);
    return times && times->contains(time);
  }

  entry pop_heap_top() {
    std::pop_heap(heap_.begin(), heap_.end(), later{});
    auto top = std::move(heap_.back());
    heap_.pop_back();
    return top;
  }

  /// Memory holds more than its limit: moves the later half of what it holds to the spill, by
  /// time (the timers of one time all stay or all go).
  void spill_latest() {
    std::vector<timestamp> times;
    times.reserve(held_in_memory());
    for (const auto& e : in_order_)
      times.push_back(e.time);
    for (const auto& e : heap_)
      times.push_back(e.time);
    auto middle = times.begin() + static_cast<std::ptrdiff_t>(times.size() / 2);
    std::nth_element(times.begin(), middle, times.end());
    auto bound = *middle;
    if (bound == *std::min_element(times.begin(), middle + 1)) {
      // Half the timers share the earliest time: spill from the next time, or, if they all
      // share it, all of them (a time's timers are never split).
      auto later_times = std::partition(middle, times.end(), [&](auto t) { return t == bound; });
      if (later_times != times.end())
        bound = *std::min_element(later_times, times.end());
    }
    while (!in_order_.empty() && in_order_.back().time >= bound) {
      to_spill(in_order_.back());
      in_order_.pop_back();
    }
    auto kept =
      std::partition(heap_.begin(), heap_.end(), [&](const entry& e) { return e.time < bound; });
    std::for_each(kept, heap_.end(), [&](const entry& e) { to_spill(e); });
    heap_.erase(kept, heap_.end());
    std::make_heap(heap_.begin(), heap_.end(), later{});
    spill_from_ = bound;
  }

  /// Memory holds no timer: moves the earliest spilled ones (half the limit, and the rest of
  /// their last time) into the queue. False if the spill is empty.
  bool take_from_spill() {
    if (!spill_from_)
      return false;
    if constexpr (storable<K>) {
      for (auto& [time, key] : spill_->take(memory_limit_ / 2))
        in_order_.push_back({time, decode_state<K>(key.data(), key.size())});
    }
    spill_from_ = spill_->earliest();
    return !in_order_.empty();
  }

  void to_spill(const entry& e) {
    if constexpr (storable<K>) {
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
  std::deque<entry> in_order_;
  std::vector<entry> heap_;
  /// The keys of the timers firing now (kept to reuse its memory).
  std::vector<K> due_;
  /// A key being spilled, encoded (kept to reuse its memory).
  std::vector<char> encoded_;
};

} // namespace sluice::detail
