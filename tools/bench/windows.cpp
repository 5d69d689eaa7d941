// Workloads "tumbling", "sliding" and "sessions": event-time windows at parallelism 2 beside a
// bare single-threaded loop that computes the same windows into hash maps.
//
//   generator (p=2, event i at time i / 100 ms) -> key_by -> window (p=2, LMDB) -> fingerprint
//   of each result -> sink
//
// - tumbling: 1-minute windows counting the events of 10^6 keys (10^7 events over 100 s: about
//   10^6 windows open at once, whose peak memory the workload samples).
// - sliding: 10 s windows every 1 s summing the amounts of 10^4 keys (each event in 10 windows).
// - sessions: sessions with a 2001 ms gap over 10^5 users, an event every 2 s per user on
//   average (10^7 events over 200 s at even milliseconds, so no two events of a user are exactly
//   a gap apart and a session never merges with one that has fired).
// The checksum adds a fingerprint of every (key, window, result): the same windows give the same
// sum, in any order.

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "sluice/all.hpp"

#include "bench.hpp"
#include "sum_sink.hpp"

namespace bench {

namespace {

using namespace std::chrono_literals;
using sluice::timestamp;

constexpr uint32_t parallelism = 2;

/// What the checksum adds for a window's result.
uint64_t fingerprint(uint64_t key, timestamp start, timestamp end, uint64_t value) {
  return mix64(mix64(key ^ static_cast<uint64_t>(start)) ^ static_cast<uint64_t>(end) ^ value);
}

/// The events of a workload: event i of key `key(i)`, with amount `amount(i)`, at `time(i)`.
struct events {
  uint64_t count = 0;
  uint64_t keys = 0;
  timestamp time_step_divisor = 100; ///< event i at i / divisor ms ...
  timestamp time_factor = 1;         ///< ... times this

  [[nodiscard]] uint64_t key(uint64_t i) const { return mix64(i) % keys; }
  [[nodiscard]] static uint64_t amount(uint64_t i) { return i % 1000; }
  [[nodiscard]] timestamp time(uint64_t i) const {
    return static_cast<timestamp>(i) / time_step_divisor * time_factor;
  }
};

struct event {
  uint64_t key = 0;
  uint64_t amount = 0;

  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f, event& x) {
    return f(x.key, x.amount);
  }
};

uint64_t value_of(int64_t count) {
  return static_cast<uint64_t>(count);
}

uint64_t value_of(const event& sum) {
  return sum.amount;
}

template <class V>
uint64_t fingerprint_of(const sluice::window_result<uint64_t, V>& r) {
  return fingerprint(r.key, r.window.start, r.window.end, value_of(r.value));
}

events tumbling_events(const options& opt) {
  return {sized(opt, 10'000'000, 200'000), sized(opt, 1'000'000, 10'000)};
}

events sliding_events(const options& opt) {
  return {sized(opt, 10'000'000, 200'000), sized(opt, 10'000, 1'000)};
}

events session_events(const options& opt) {
  return {sized(opt, 10'000'000, 200'000), sized(opt, 100'000, 2'000), 100, 2};
}

constexpr timestamp tumbling_size = 60'000;
constexpr timestamp sliding_size = 10'000;
constexpr timestamp sliding_slide = 1'000;
constexpr timestamp session_gap = 2'001;

/// Runs `windowing(keyed events)` and sums the fingerprints of its results.
template <class Windowing>
measurement run_sluice(const options& opt, const events& e, Windowing windowing) {
  auto cfg = runtime_config(opt);
  cfg.state = sluice::state_backend::lmdb;
  cfg.state_dir = child_state_dir();
  sluice::runtime rt{cfg};
  sluice::pipeline p{"windows"};
  sum_sink sink;
  auto acc = sink.acc;
  auto keyed = p.source(sluice::generate<event>(
                          [e](uint64_t i) {
                            return event{e.key(i), events::amount(i)};
                          },
                          {.count = e.count}, [e](uint64_t i, const event&) { return e.time(i); }))
                 .parallelism(parallelism)
                 .key_by(&event::key);
  windowing(keyed)
    .parallelism(parallelism)
    .map([](const auto& r) { return fingerprint_of(r); })
    .parallelism(parallelism)
    .sink(sink);
  return timed_run(rt, p, e.count, [&] { return acc->load(); });
}

/// The bare loop's windows by start, each a hash map from key to its value; `fire` sums the
/// windows that end at or before a time.
class window_maps {
public:
  explicit window_maps(timestamp size) : size_(size) {}

  uint64_t& at(timestamp start, uint64_t key) { return open_[start][key]; }

  /// Fires (sums and drops) the windows ending at or before `time`.
  void fire_until(timestamp time) {
    while (!open_.empty() && open_.begin()->first + size_ <= time) {
      auto start = open_.begin()->first;
      for (const auto& [key, value] : open_.begin()->second)
        sum += fingerprint(key, start, start + size_, value);
      open_.erase(open_.begin());
    }
  }

  uint64_t sum = 0;

private:
  timestamp size_;
  std::map<timestamp, std::unordered_map<uint64_t, uint64_t>> open_;
};

measurement run_bare_tumbling(const options& opt) {
  auto e = tumbling_events(opt);
  return timed(e.count, [&] {
    window_maps windows{tumbling_size};
    for (uint64_t i = 0; i < e.count; ++i) {
      auto t = e.time(i);
      windows.fire_until(t);
      ++windows.at(t - t % tumbling_size, e.key(i));
    }
    windows.fire_until(sluice::max_timestamp - tumbling_size);
    return windows.sum;
  });
}

measurement run_bare_sliding(const options& opt) {
  auto e = sliding_events(opt);
  return timed(e.count, [&] {
    window_maps windows{sliding_size};
    for (uint64_t i = 0; i < e.count; ++i) {
      auto t = e.time(i);
      windows.fire_until(t);
      auto key = e.key(i);
      auto amount = events::amount(i);
      for (auto start = t - t % sliding_slide; start > t - sliding_size; start -= sliding_slide)
        windows.at(start, key) += amount;
    }
    windows.fire_until(sluice::max_timestamp - sliding_size);
    return windows.sum;
  });
}

measurement run_bare_sessions(const options& opt) {
  auto e = session_events(opt);
  return timed(e.count, [&] {
    struct session {
      timestamp start = 0;
      timestamp end = 0;
      uint64_t events = 0;
    };
    std::unordered_map<uint64_t, session> open;
    uint64_t sum = 0;
    auto fire = [&](uint64_t user, const session& s) {
      sum += fingerprint(user, s.start, s.end, s.events);
    };
    for (uint64_t i = 0; i < e.count; ++i) {
      auto t = e.time(i);
      auto [it, fresh] = open.try_emplace(e.key(i), session{t, t + session_gap, 0});
      auto& s = it->second;
      if (!fresh && t > s.end) {
        fire(it->first, s);
        s = session{t, t + session_gap, 0};
      }
      s.end = t + session_gap;
      ++s.events;
    }
    for (const auto& [user, s] : open)
      fire(user, s);
    return sum;
  });
}

/// The (key, window) pairs open at once in the tumbling workload: the keys of its first window.
double tumbling_open_windows(const events& e) {
  std::vector<bool> seen(e.keys);
  uint64_t open = 0;
  for (uint64_t i = 0; i < e.count && e.time(i) < tumbling_size; ++i)
    if (auto key = e.key(i); !seen[key]) {
      seen[key] = true;
      ++open;
    }
  return static_cast<double>(open);
}

measurement run_sluice_tumbling(const options& opt) {
  auto e = tumbling_events(opt);
  auto m = run_sluice(opt, e, [](auto& keyed) {
    return keyed.window(sluice::tumbling_window{60s}).aggregate(sluice::count_function<event>{});
  });
  m.add_figure("open_windows", "M", tumbling_open_windows(e) / 1e6);
  return m;
}

measurement run_sluice_sliding(const options& opt) {
  return run_sluice(opt, sliding_events(opt), [](auto& keyed) {
    return keyed.window(sluice::sliding_window{10s, 1s}).reduce([](const event& a, const event& b) {
      return event{a.key, a.amount + b.amount};
    });
  });
}

measurement run_sluice_sessions(const options& opt) {
  return run_sluice(opt, session_events(opt), [](auto& keyed) {
    return keyed.window(sluice::session_window{std::chrono::milliseconds{session_gap}})
      .aggregate(sluice::count_function<event>{});
  });
}

} // namespace

std::vector<workload> window_workloads() {
  std::vector<workload> workloads{
    {"tumbling",
     "generator(p=2) -> key_by(10^6 keys) -> 1-minute tumbling count, event time (p=2, LMDB) -> "
     "sink",
     {{"sluice", "Sluice keyed tumbling windows at parallelism 2", false, run_sluice_tumbling},
      {"bare_loop", "one thread: a hash map per open window, fired in time order", true,
       run_bare_tumbling}}},
    {"sliding",
     "generator(p=2) -> key_by(10^4 keys) -> sliding 10 s / 1 s sum, event time (p=2, LMDB) -> "
     "sink",
     {{"sluice", "Sluice keyed sliding windows at parallelism 2 (reduce)", false,
       run_sluice_sliding},
      {"bare_loop", "one thread: each event added into its 10 windows' hash maps", true,
       run_bare_sliding}}},
    {"sessions",
     "generator(p=2) -> key_by(10^5 users) -> session windows, gap 2001 ms (p=2, LMDB) -> sink",
     {{"sluice", "Sluice keyed session windows at parallelism 2", false, run_sluice_sessions},
      {"bare_loop", "one thread: each user's open session in a hash map", true,
       run_bare_sessions}}},
  };
  for (auto& w : workloads)
    for (auto& v : w.variants)
      v.samples_memory = true;
  return workloads;
}

} // namespace bench
