// words with event times (generator) -> key_by -> timed counts (event-time timers close each
// key's tumbling windows, processing-time timers flush running partial counts) -> sink: the same
// results at any parallelism, after a stop-and-restore with other parallelisms, and after the
// timer-using instance is killed alone (these two with timers spilled to LMDB).

#include <catch2/catch.hpp>

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "support/exact_counts.hpp"
#include "support/test_support.hpp"

using namespace sluice;
using namespace std::chrono_literals;

namespace {

constexpr timestamp window = 1000;

/// Event time of the index-th word: one word per millisecond.
timestamp time_of(uint64_t index) {
  return static_cast<timestamp>(index);
}

/// Per key, counts the words of each tumbling event-time window of `window` ms and emits
/// "w <key> <window end> <count>" when the watermark passes the window's end; beside that,
/// flushes "p <key> <count> <timer time>" of the words since the last flush `flush_after` ms of
/// processing time after the first of them.
struct timed_counts {
  timestamp flush_after = 3;

  void process(const std::string&, keyed_context<std::string, std::string>& ctx) {
    auto end = (ctx.current_time() / window + 1) * window;
    auto windows = ctx.map<timestamp, int64_t>("windows");
    windows.put(end, windows.get(end).value_or(0) + 1);
    ctx.register_event_time_timer(end - 1);
    auto partial = ctx.value<int64_t>("partial");
    if (partial.value_or(0) == 0)
      ctx.register_processing_time_timer(ctx.current_processing_time() + flush_after);
    partial.update(partial.value_or(0) + 1);
  }

  void on_timer(timestamp time, keyed_context<std::string, std::string>& ctx) {
    if (ctx.timer_domain() == time_domain::event_time) {
      auto windows = ctx.map<timestamp, int64_t>("windows");
      auto end = time + 1;
      ctx.emit("w " + ctx.key() + " " + std::to_string(end) + " "
               + std::to_string(windows.get(end).value_or(0)));
      windows.remove(end);
      return;
    }
    auto partial = ctx.value<int64_t>("partial");
    ctx.emit("p " + ctx.key() + " " + std::to_string(partial.value_or(0)) + " "
             + std::to_string(time));
    partial.clear();
  }
};

/// The job: `records` words from 2 generator instances (at `rate` words/s in all, 0: at full
/// speed), timed counts at `parallelism`, then `sink`.
template <class Sink>
void timed_job(pipeline& p, uint64_t records, double rate, uint32_t parallelism, Sink sink,
               const supervision& counting = supervision::operator_default()) {
  p.source(generate<std::string>(test::key_of, {.count = records, .rate = rate},
                                 [](uint64_t i, const std::string&) { return time_of(i); }))
    .parallelism(2)
    .name("words")
    .key_by(std::identity{})
    .template process<std::string>(timed_counts{})
    .name("timed")
    .parallelism(parallelism)
    .supervision(counting)
    .sink(std::move(sink))
    .name("out");
}

/// Checks the timed counts' output: every key's window counts exactly once each and right,
/// and its flushed partial counts summing to its words, none of them empty.
void check_timed_counts(const std::vector<std::string>& lines, uint64_t records) {
  std::map<std::string, int64_t> expected_windows;
  std::map<std::string, int64_t> expected_totals;
  for (uint64_t i = 0; i < records; ++i) {
    auto end = (time_of(i) / window + 1) * window;
    ++expected_windows[test::key_of(i) + " " + std::to_string(end)];
    ++expected_totals[test::key_of(i)];
  }
  std::map<std::string, int64_t> windows;
  std::map<std::string, int64_t> totals;
  size_t repeated_windows = 0;
  size_t empty_flushes = 0;
  for (const auto& line : lines) {
    std::istringstream fields{line};
    std::string kind, key;
    fields >> kind >> key;
    if (kind == "w") {
      timestamp end = 0;
      int64_t n = 0;
      fields >> end >> n;
      if (!windows.emplace(key + " " + std::to_string(end), n).second)
        ++repeated_windows;
    } else {
      int64_t n = 0;
      fields >> n;
      totals[key] += n;
      empty_flushes += n == 0;
    }
  }
  CHECK(repeated_windows == 0);
  CHECK(empty_flushes == 0);
  CHECK(windows.size() == expected_windows.size());
  bool windows_right = windows == expected_windows; // not printed: thousands of windows
  CHECK(windows_right);
  std::string differences;
  for (const auto& [key, n] : expected_totals)
    if (totals[key] != n)
      differences += " " + key + ": " + std::to_string(totals[key]) + " not " + std::to_string(n);
  CHECK(differences == "");
}

/// The lines of every file a file sink writing `name` in `dir` left, in any parallelism.
} // namespace

TEST_CASE("timers give the same windows and flushed totals at parallelism 1, 2 and 4") {
  constexpr uint64_t records = 40'000;
  for (uint32_t parallelism : {1u, 2u, 4u}) {
    INFO("parallelism " << parallelism);
    std::vector<std::string> out;
    pipeline p{"timers"};
    timed_job(p, records, 0, parallelism, collect(out));
    auto config = test::small_batches();
    config.mode = execution_mode::streaming;
    runtime rt{config};
    REQUIRE_FALSE(rt.run(p));
    check_timed_counts(out, records);
  }
}

TEST_CASE("timers restored with parallelism 2, then 3, then 1 fire each window once") {
  constexpr uint64_t records = 30'000;
  test::temp_dir dir;
  auto config = test::small_batches();
  config.mode = execution_mode::streaming;
  config.state_dir = (dir.path() / "state").string();
  config.checkpoint_interval = 10ms;
  config.state_overlay_entries = 32; // timers and state spill to LMDB, and come back
  uint64_t completed = 0;
  for (uint32_t parallelism : {2u, 3u}) {
    INFO("stopped at parallelism " << parallelism);
    pipeline p{"timers-rescale"};
    timed_job(p, records, 20'000, parallelism, write_file(dir.file("out.txt")));
    test::stop_after_checkpoints(p, config, completed + 3);
    completed += 3;
  }
  pipeline p{"timers-rescale"};
  timed_job(p, records, 0, 1, write_file(dir.file("out.txt")));
  runtime rt{config};
  REQUIRE_FALSE(rt.run(p));
  check_timed_counts(test::sink_output_lines(dir, "out.txt"), records);
}

TEST_CASE("a killed instance with timers restarts alone and fires the same timers again") {
  constexpr uint64_t records = 120'000;
  test::temp_dir state;
  std::vector<std::string> out;
  pipeline p{"timers-kill"};
  supervision counting;
  counting.intensity.max_restarts = 100;
  timed_job(p, records, 60'000, 2, collect(out), counting);
  auto config = test::recovery_config(state);
  config.state_overlay_entries = 32; // timers and state spill to LMDB, and come back
  runtime rt{config};
  auto j = rt.start(p);
  REQUIRE(j);
  REQUIRE(test::wait_for_checkpoint(*j, 2));
  uint32_t kills = 0;
  for (; kills < 6 && !j->wait_for(150ms); ++kills) {
    REQUIRE(test::kill_and_await_restart(*j, "timed", kills % 2));
  }
  CHECK(kills >= 2);
  auto error = j->wait();
  INFO(describe(error));
  REQUIRE_FALSE(error);
  check_timed_counts(out, records);
}

namespace {

/// Emits the keys "a" and "b" once, then nothing until released; then ends.
struct two_then_quiet {
  using output_type = std::string;
  std::shared_ptr<std::atomic<bool>> release;
  bool emitted = false;

  bool bounded() const { return true; }

  source_step produce(source_context<std::string>& ctx, size_t) {
    if (!emitted) {
      ctx.emit("a", 1);
      ctx.emit("b", 2);
      emitted = true;
    }
    return release->load() ? source_step::done() : source_step::wait(5ms);
  }
};

/// Asks, for each record, for a processing-time timer 20 ms on, which emits the key.
struct remind_later {
  void process(const std::string&, keyed_context<std::string, std::string>& ctx) {
    ctx.register_processing_time_timer(ctx.current_processing_time() + 20);
  }

  void on_timer(timestamp, keyed_context<std::string, std::string>& ctx) { ctx.emit(ctx.key()); }
};

/// A sink that hands each record to the test at once.
struct shared_sink {
  using input_type = std::string;
  using output_type = no_output;
  std::shared_ptr<std::vector<std::string>> seen;
  std::shared_ptr<std::mutex> mutex;

  void on_batch(std::vector<record<std::string>>& records, context<no_output>&) {
    std::lock_guard<std::mutex> guard{*mutex};
    for (auto& r : records)
      seen->push_back(r.value);
  }
};

} // namespace

TEST_CASE("a processing-time timer fires while no input comes") {
  auto release = std::make_shared<std::atomic<bool>>(false);
  auto seen = std::make_shared<std::vector<std::string>>();
  auto mutex = std::make_shared<std::mutex>();
  auto fired = [&] {
    std::lock_guard<std::mutex> guard{*mutex};
    return *seen;
  };
  pipeline p{"quiet"};
  p.source(two_then_quiet{release})
    .key_by(std::identity{})
    .process<std::string>(remind_later{})
    .sink(shared_sink{seen, mutex});
  runtime rt{test::small_batches()};
  auto job = rt.start(p);
  REQUIRE(job);
  // The source is still open and sends nothing more: only the clock can fire the timers.
  REQUIRE(test::eventually([&] { return fired().size() == 2; }));
  CHECK(fired() == std::vector<std::string>{"a", "b"});
  release->store(true);
  REQUIRE_FALSE(job->wait());
  CHECK(fired().size() == 2);
}
