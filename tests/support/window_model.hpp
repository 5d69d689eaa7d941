#pragma once

// The randomized model of the window tests: random keys and event times, in order within the
// watermark's bound, late within the allowed lateness, and later than that, at a pace the
// watermark can only bound, never pin; every window kind run over them (tumbling, sliding,
// session, tumbling and sliding count windows), and the reference they must give, computed here
// record by record.
//
// A source at parallelism 1 emits record i in a call of at most `batch` records and then the
// watermark "largest event time so far - max_delay - 1". When record i reaches a window instance,
// the watermark there is thus at least that of the records up to i - batch and at most that of
// the records before i, whatever the timing, the parallelism, a replay or a restore. The model
// draws each record's time so that every decision it takes there (join a window or be late; a
// session still there or gone) holds anywhere in that range, drawing again where it would not.

#include <algorithm>
#include <cstdint>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "sluice/all.hpp"

namespace sluice::test {

enum class window_kind { tumbling, sliding, session, count, sliding_count };

inline const char* kind_name(window_kind kind) {
  switch (kind) {
    case window_kind::tumbling:
      return "tumbling";
    case window_kind::sliding:
      return "sliding";
    case window_kind::session:
      return "session";
    case window_kind::count:
      return "count";
    case window_kind::sliding_count:
      return "sliding_count";
  }
  return "?";
}

inline window_kind kind_named(const std::string& name) {
  for (auto kind : {window_kind::tumbling, window_kind::sliding, window_kind::session,
                    window_kind::count, window_kind::sliding_count})
    if (name == kind_name(kind))
      return kind;
  throw std::invalid_argument{"unknown window kind " + name};
}

struct model_event {
  std::string key;
  int64_t id = 0;

  friend bool operator==(const model_event&, const model_event&) = default;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, model_event& x) {
  return f(x.key, x.id);
}

/// Counts a window's records and sums their ids: which records a window holds, not only how many.
struct count_and_sum {
  using input_type = model_event;
  using accumulator_type = std::pair<uint64_t, int64_t>;
  using result_type = std::pair<uint64_t, int64_t>;
  accumulator_type create() const { return {0, 0}; }
  void add(accumulator_type& acc, const model_event& e) const {
    ++acc.first;
    acc.second += e.id;
  }
  result_type result(const accumulator_type& acc) const { return acc; }
  void merge(accumulator_type& acc, accumulator_type&& other) const {
    acc.first += other.first;
    acc.second += other.second;
  }
};

/// A window's result as the jobs write it: "key start end count sum".
using window_line = std::tuple<std::string, timestamp, timestamp, uint64_t, int64_t>;

inline std::string line_of(const window_result<std::string, std::pair<uint64_t, int64_t>>& r) {
  return r.key + " " + std::to_string(r.window.start) + " " + std::to_string(r.window.end) + " "
         + std::to_string(r.value.first) + " " + std::to_string(r.value.second);
}

inline window_line parse_line(const std::string& text) {
  std::istringstream fields{text};
  window_line line;
  auto& [key, start, end, count, sum] = line;
  fields >> key >> start >> end >> count >> sum;
  return line;
}

/// Per key and window (start, end): the result that stands, (count, sum of ids).
using final_results =
  std::map<std::tuple<std::string, timestamp, timestamp>, std::pair<uint64_t, int64_t>>;
/// Per key: the results of its count windows in the order they fired.
using result_sequences = std::map<std::string, std::vector<std::pair<uint64_t, int64_t>>>;

struct window_model {
  window_kind kind = window_kind::tumbling;
  std::vector<model_event> events;
  std::vector<timestamp> times;
  /// Time windows: the last result of every window (for sessions, of every session not merged
  /// into a larger one later).
  final_results finals;
  /// Count windows: every result, per key, in order.
  result_sequences sequences;
  /// The ids of the records that joined no window.
  std::set<int64_t> late;

  static constexpr timestamp max_delay = 20;
  static constexpr timestamp lateness = 30;
  static constexpr timestamp size = 50;
  static constexpr timestamp slide = 20;
  static constexpr timestamp gap = 30;
  static constexpr uint64_t count_size = 5;
  static constexpr uint64_t count_slide = 2;
};

/// The windows of `kind` that a record at `time` belongs to (time windows only).
inline std::vector<time_window> windows_of(window_kind kind, timestamp time) {
  std::vector<time_window> result;
  if (kind == window_kind::tumbling) {
    auto start = window_start(time, 0, window_model::size);
    result.push_back({start, start + window_model::size});
  } else if (kind == window_kind::sliding) {
    for (auto start = window_start(time, 0, window_model::slide); start > time - window_model::size;
         start -= window_model::slide)
      result.push_back({start, start + window_model::size});
  } else {
    result.push_back({time, time + window_model::gap});
  }
  return result;
}

/// `events` records over `keys` keys, drawn by `seed`, for a source emitting at most `batch`
/// records per call; with the reference results of windows of `kind`.
inline window_model make_window_model(window_kind kind, uint64_t events, uint32_t keys,
                                      uint64_t batch, unsigned seed) {
  window_model m;
  m.kind = kind;
  std::mt19937_64 rng{seed};
  auto uniform = [&](int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>{lo, hi}(rng);
  };
  // prefix_max[i]: the largest event time of records 0..i.
  std::vector<timestamp> prefix_max;
  auto watermark_at_most = [&](uint64_t i) {
    return i == 0 ? min_timestamp : watermark_behind(prefix_max[i - 1], window_model::max_delay);
  };
  auto watermark_at_least = [&](uint64_t i) {
    return i < batch ? min_timestamp
                     : watermark_behind(prefix_max[i - batch], window_model::max_delay);
  };
  auto cleanup = [](const time_window& w) { return w.max_timestamp() + window_model::lateness; };
  enum class fate { joins, late, unsure };
  auto fate_of = [&](timestamp cleanup_time, uint64_t i) {
    if (cleanup_time > watermark_at_most(i))
      return fate::joins;
    if (cleanup_time <= watermark_at_least(i))
      return fate::late;
    return fate::unsure;
  };

  std::map<std::string, std::vector<std::pair<time_window, std::pair<uint64_t, int64_t>>>> sessions;
  std::map<std::string, std::vector<int64_t>> arrived; // count windows: ids per key in order
  for (uint64_t i = 0; i < events; ++i) {
    auto key = "k" + std::to_string(uniform(0, keys - 1));
    auto id = static_cast<int64_t>(i);
    auto base = static_cast<timestamp>(i);
    timestamp time = base;
    std::vector<time_window> joins;
    bool settled = false;
    for (int attempt = 0; attempt < 20 && !settled; ++attempt) {
      auto draw = uniform(0, 99);
      if (draw < 80 || attempt == 19)
        time = base - uniform(0, window_model::max_delay - 1); // on time, surely
      else if (draw < 92)
        time =
          base - window_model::max_delay - uniform(0, window_model::lateness + window_model::size);
      else
        time = base - uniform(0, 6 * window_model::size);
      if (kind == window_kind::count || kind == window_kind::sliding_count) {
        settled = true;
        break;
      }
      joins.clear();
      settled = true;
      for (const auto& w : windows_of(kind, time)) {
        auto f = fate_of(cleanup(w), i);
        if (f == fate::unsure)
          settled = false;
        else if (f == fate::joins)
          joins.push_back(w);
      }
      if (settled && kind == window_kind::session && !joins.empty()) {
        // A session the record touches must be there for sure, or gone for sure.
        for (const auto& [w, value] : sessions[key])
          if (w.intersects(joins[0]) && fate_of(cleanup(w), i) == fate::unsure)
            settled = false;
      }
    }
    m.events.push_back({key, id});
    m.times.push_back(time);
    prefix_max.push_back(i == 0 ? time : std::max(prefix_max.back(), time));

    if (kind == window_kind::count || kind == window_kind::sliding_count) {
      arrived[key].push_back(id);
      continue;
    }
    if (joins.empty()) {
      m.late.insert(id);
      continue;
    }
    if (kind != window_kind::session) {
      for (const auto& w : joins) {
        auto& r = m.finals[{key, w.start, w.end}];
        ++r.first;
        r.second += id;
      }
      continue;
    }
    // Sessions: those surely gone stand as they are; the record's merges with those it touches.
    auto& open = sessions[key];
    std::erase_if(open, [&](const auto& s) {
      if (fate_of(cleanup(s.first), i) != fate::late || s.first.intersects(joins[0]))
        return false;
      m.finals[{key, s.first.start, s.first.end}] = s.second;
      return true;
    });
    auto merged = joins[0];
    std::pair<uint64_t, int64_t> value{1, id};
    std::erase_if(open, [&](const auto& s) {
      if (!s.first.intersects(joins[0]) || fate_of(cleanup(s.first), i) == fate::late)
        return false;
      merged = merged.cover(s.first);
      value.first += s.second.first;
      value.second += s.second.second;
      return true;
    });
    open.push_back({merged, value});
  }
  for (const auto& [key, open] : sessions)
    for (const auto& [w, value] : open)
      m.finals[{key, w.start, w.end}] = value;
  for (const auto& [key, ids] : arrived) {
    auto& seq = m.sequences[key];
    if (kind == window_kind::count) {
      for (size_t end = window_model::count_size; end <= ids.size();
           end += window_model::count_size) {
        std::pair<uint64_t, int64_t> value{window_model::count_size, 0};
        for (size_t j = end - window_model::count_size; j < end; ++j)
          value.second += ids[j];
        seq.push_back(value);
      }
    } else {
      for (size_t end = window_model::count_slide; end <= ids.size();
           end += window_model::count_slide) {
        auto first = end > window_model::count_size ? end - window_model::count_size : 0;
        std::pair<uint64_t, int64_t> value{end - first, 0};
        for (size_t j = first; j < end; ++j)
          value.second += ids[j];
        seq.push_back(value);
      }
    }
  }
  return m;
}

/// The windows of the model's kind, their results as lines into `results` and the ids of late
/// records as lines into `late`; the source at parallelism 1 (`rate` records/s, 0: unlimited),
/// the window and what follows at `parallelism`.
template <class ResultSink, class LateSink>
void window_model_job(pipeline& p, const window_model& m, uint32_t parallelism, double rate,
                      ResultSink results, LateSink late,
                      const supervision& supervise = supervision::operator_default()) {
  auto events = std::make_shared<const std::vector<model_event>>(m.events);
  auto times = std::make_shared<const std::vector<timestamp>>(m.times);
  auto keyed = p.source(generate<model_event>(
                          [events](uint64_t i) { return (*events)[i]; },
                          {.count = events->size(),
                           .rate = rate,
                           .out_of_orderness = std::chrono::milliseconds{window_model::max_delay}},
                          [times](uint64_t i, const model_event&) { return (*times)[i]; }))
                 .parallelism(1)
                 .name("events")
                 .key_by(&model_event::key);
  auto finish = [&](auto windowed) {
    auto counted = windowed.with_late_records().aggregate(count_and_sum{});
    counted.name("window").parallelism(parallelism).supervision(supervise);
    counted.map(line_of)
      .name("format")
      .parallelism(parallelism)
      .supervision(supervise)
      .sink(std::move(results))
      .name("results")
      .parallelism(parallelism); // in order per key
    counted.late_records()
      .map([](const model_event& e) { return std::to_string(e.id); })
      .name("late_ids")
      .sink(std::move(late))
      .name("late");
  };
  using std::chrono::milliseconds;
  auto lateness = milliseconds{window_model::lateness};
  switch (m.kind) {
    case window_kind::tumbling:
      return finish(
        keyed.window(tumbling_window{milliseconds{window_model::size}}).allowed_lateness(lateness));
    case window_kind::sliding:
      return finish(keyed
                      .window(sliding_window{milliseconds{window_model::size},
                                             milliseconds{window_model::slide}})
                      .allowed_lateness(lateness));
    case window_kind::session:
      return finish(
        keyed.window(session_window{milliseconds{window_model::gap}}).allowed_lateness(lateness));
    case window_kind::count:
      return finish(keyed.count_window(window_model::count_size));
    case window_kind::sliding_count:
      return finish(keyed.count_window(window_model::count_size, window_model::count_slide));
  }
}

} // namespace sluice::test
