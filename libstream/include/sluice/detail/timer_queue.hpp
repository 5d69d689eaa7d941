#pragma once

#include <algorithm>
#include <concepts>
#include <cstddef>
#include <deque>
#include <iterator>
#include <unordered_set>
#include <utility>
#include <vector>

#include "sluice/key_group.hpp"
#include "sluice/record.hpp"

namespace sluice::detail {

/// Timers in time order, as a timer service holds them in memory: (time, key) entries, each
/// marked whether the service's table holds it (see timer_service).
///
/// Most timers are added in time order, a record's time plus a delay or a window's end, but in
/// as many orders as the operator has upstream instances: each upstream's records are in time
/// order, and the batches of two upstreams interleave. So the queue keeps a few sorted runs,
/// appended to at no cost, a timer going to the run whose last timer is the latest at or before
/// it (or to a new run), and a min-heap for timers no run can take. Taking the earliest is a
/// look at each run's first timer and the heap's top.
///
/// A timer of the same key and time as one already at the end of a run (the same window's end,
/// registered for every record of the window) is not added again; other duplicates are (also
/// where a run's last time was cut or read back whole, which `push_new` does without noting
/// keys), and `take_due` merges them.
template <class K>
class timer_queue {
public:
  struct entry {
    timestamp time;
    K key;
    /// The table of the timer service holds this timer.
    bool in_table = false;
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

  [[nodiscard]] bool empty() const noexcept { return size_ == 0; }
  [[nodiscard]] size_t size() const noexcept { return size_; }

  /// Adds `e`, unless it repeats a timer at the end of a run.
  void push(entry e) { place(std::move(e), true); }

  /// Adds `e`, which the queue does not hold (a timer read back from the table or the spill, a
  /// window's cleanup as the window opens).
  void push_new(entry e) { place(std::move(e), false); }

  /// The time of the earliest timer. The queue is not empty.
  [[nodiscard]] timestamp earliest_time() const { return earliest().time; }

  /// The earliest timer. The queue is not empty.
  [[nodiscard]] const entry& earliest() const {
    auto at = earliest_run();
    return at == runs_.size() ? heap_.front() : runs_[at].entries.front();
  }

  /// Removes the earliest timer, the one `earliest` shows. The queue is not empty.
  void pop_earliest() {
    auto at = earliest_run();
    if (at == runs_.size())
      pop_heap_top();
    else
      pop_front(runs_.begin() + static_cast<std::ptrdiff_t>(at));
  }

  /// Removes the timers at `time` into `due`, sorted by key, each key once (its mark set if
  /// any of its duplicates had it): the order of a queue rebuilt from the table, whatever the
  /// order timers were added in.
  void take_due(timestamp time, std::vector<entry>& due) {
    due.clear();
    for (auto r = runs_.begin(); r != runs_.end();) {
      while (!r->entries.empty() && r->entries.front().time == time) {
        due.push_back(std::move(r->entries.front()));
        r->entries.pop_front();
        r->prefetched -= r->prefetched > 0 ? 1 : 0;
        --size_;
      }
      r = r->entries.empty() ? runs_.erase(r) : std::next(r);
    }
    while (!heap_.empty() && heap_.front().time == time)
      due.push_back(pop_heap_top());
    if (due.size() > 1)
      merge_duplicates(due);
  }

  /// Calls `prefetch(key)` for the keys of the timers at or before `time` that come next in
  /// each run, up to `distance` of them per run, each once while it is queued.
  template <class Prefetch>
  void prefetch_due(timestamp time, size_t distance, Prefetch& prefetch) {
    for (auto& r : runs_)
      for (; r.prefetched < distance && r.prefetched < r.entries.size()
             && r.entries[r.prefetched].time <= time;
           ++r.prefetched)
        prefetch(std::as_const(r.entries[r.prefetched].key));
  }

  /// Calls `fn(entry&)` for every timer.
  template <class Fn>
  void for_each(Fn&& fn) {
    for (auto& r : runs_)
      std::for_each(r.entries.begin(), r.entries.end(), fn);
    std::for_each(heap_.begin(), heap_.end(), fn);
  }

  /// Removes the later half of the timers, by time (the timers of one time all stay or all
  /// go), and returns them with the earliest time removed.
  std::pair<std::vector<entry>, timestamp> take_later_half() {
    std::vector<timestamp> times;
    times.reserve(size_);
    for_each([&](const entry& e) { times.push_back(e.time); });
    auto middle = times.begin() + static_cast<std::ptrdiff_t>(times.size() / 2);
    std::nth_element(times.begin(), middle, times.end());
    auto bound = *middle;
    if (bound == *std::min_element(times.begin(), middle + 1)) {
      // Half the timers share the earliest time: from the next time, or, if they all share
      // it, all of them.
      auto later_times = std::partition(middle, times.end(), [&](auto t) { return t == bound; });
      if (later_times != times.end())
        bound = *std::min_element(later_times, times.end());
    }
    std::vector<entry> taken;
    for (auto r = runs_.begin(); r != runs_.end();) {
      if (!r->entries.empty() && r->entries.back().time >= bound)
        r->last_keys = {}; // its last time goes
      while (!r->entries.empty() && r->entries.back().time >= bound) {
        taken.push_back(std::move(r->entries.back()));
        r->entries.pop_back();
      }
      r->prefetched = std::min(r->prefetched, r->entries.size());
      r = r->entries.empty() ? runs_.erase(r) : std::next(r);
    }
    auto kept =
      std::partition(heap_.begin(), heap_.end(), [&](const entry& e) { return e.time < bound; });
    std::move(kept, heap_.end(), std::back_inserter(taken));
    heap_.erase(kept, heap_.end());
    std::make_heap(heap_.begin(), heap_.end(), later{});
    size_ -= taken.size();
    return {std::move(taken), bound};
  }

private:
  /// How many sorted runs the queue keeps: as many upstream instances as usually interleave.
  static constexpr size_t max_runs = 4;

  /// Orders the heap earliest first, keys breaking ties.
  struct later {
    bool operator()(const entry& a, const entry& b) const {
      if (a.time != b.time)
        return a.time > b.time;
      return key_less{}(b.key, a.key);
    }
  };

  struct run {
    std::deque<entry> entries;
    /// How many of the first entries were prefetched.
    size_t prefetched = 0;
    /// Keys of the entries at the last time, once `push` added two or more of them.
    std::unordered_set<K, key_hash<K>> last_keys;

    [[nodiscard]] timestamp last_time() const { return entries.back().time; }

    /// A timer at the last time is added for `key`: false if one is there for it already.
    bool note_last_key(const K& key) {
      if (entries.back().key == key)
        return false;
      if (last_keys.empty())
        last_keys.insert(entries.back().key);
      return last_keys.insert(key).second;
    }

    void append(entry e) {
      if (!entries.empty() && entries.back().time != e.time && !last_keys.empty())
        last_keys = {}; // a new last time; freed, as a window's end may have had many keys
      entries.push_back(std::move(e));
    }
  };

  void place(entry e, bool may_repeat) {
    run* best = nullptr;
    for (auto& r : runs_)
      if (r.last_time() <= e.time && (!best || r.last_time() > best->last_time()))
        best = &r;
    if (best) {
      if (may_repeat && best->last_time() == e.time && !best->note_last_key(e.key))
        return; // there already
      best->append(std::move(e));
    } else if (runs_.size() < max_runs) {
      runs_.emplace_back().append(std::move(e));
    } else {
      heap_.push_back(std::move(e));
      std::push_heap(heap_.begin(), heap_.end(), later{});
    }
    ++size_;
  }

  /// The run whose first timer is the earliest, or the number of runs if it is the heap's top.
  [[nodiscard]] size_t earliest_run() const {
    auto at = runs_.size();
    const entry* first = heap_.empty() ? nullptr : &heap_.front();
    for (size_t i = 0; i < runs_.size(); ++i)
      if (!first || runs_[i].entries.front().time < first->time) {
        first = &runs_[i].entries.front();
        at = i;
      }
    return at;
  }

  void pop_front(typename std::vector<run>::iterator r) {
    if (!r->last_keys.empty() && r->entries.front().time == r->last_time())
      r->last_keys.erase(r->entries.front().key); // may be added again
    r->entries.pop_front();
    r->prefetched -= r->prefetched > 0 ? 1 : 0;
    --size_;
    if (r->entries.empty())
      runs_.erase(r);
  }

  entry pop_heap_top() {
    std::pop_heap(heap_.begin(), heap_.end(), later{});
    auto top = std::move(heap_.back());
    heap_.pop_back();
    --size_;
    return top;
  }

  /// Sorts `due` by key and keeps one entry per key.
  static void merge_duplicates(std::vector<entry>& due) {
    std::sort(due.begin(), due.end(),
              [](const entry& a, const entry& b) { return key_less{}(a.key, b.key); });
    size_t kept = 0;
    size_t same_order = 0; // the first kept entry no less than the current one
    for (size_t i = 0; i < due.size(); ++i) {
      if (kept > 0 && key_less{}(due[kept - 1].key, due[i].key))
        same_order = kept;
      auto first = due.begin() + static_cast<std::ptrdiff_t>(same_order);
      auto last = due.begin() + static_cast<std::ptrdiff_t>(kept);
      auto same = std::find_if(first, last, [&](const entry& e) { return e.key == due[i].key; });
      if (same != last) {
        same->in_table = same->in_table || due[i].in_table;
        continue;
      }
      if (kept != i)
        due[kept] = std::move(due[i]);
      ++kept;
    }
    due.resize(kept);
  }

  std::vector<run> runs_;
  std::vector<entry> heap_;
  size_t size_ = 0;
};

} // namespace sluice::detail
