#pragma once

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "sluice/all.hpp"

namespace sluice::test {

/// A runtime config with small batches, so even small inputs cross many batch boundaries.
inline runtime_config small_batches(uint32_t default_parallelism = 1) {
  runtime_config config;
  config.batch_size = 16;
  config.input_buffer = 64;
  config.input_buffer_limit = 256;
  config.default_parallelism = default_parallelism;
  return config;
}

/// Polls `condition` until it holds or `timeout` passes; returns whether it held.
inline bool eventually(const std::function<bool()>& condition,
                       std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition())
      return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return condition();
}

/// A fresh temporary directory, removed when the object goes out of scope.
class temp_dir {
public:
  temp_dir() {
    std::random_device rd;
    path_ = std::filesystem::temp_directory_path()
            / ("sluice-test-" + std::to_string(rd()) + "-" + std::to_string(rd()));
    std::filesystem::create_directories(path_);
  }
  ~temp_dir() {
    std::error_code ec;
    std::filesystem::permissions(path_, std::filesystem::perms::owner_all,
                                 std::filesystem::perm_options::add, ec);
    std::filesystem::remove_all(path_, ec);
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;

  [[nodiscard]] const std::filesystem::path& path() const { return path_; }
  [[nodiscard]] std::string file(const std::string& name) const { return (path_ / name).string(); }

private:
  std::filesystem::path path_;
};

/// A job that can recover: LMDB state under `dir`, a checkpoint every 50 ms, streaming mode,
/// and small batches and credit, so a run of some 10^5 records crosses many of each.
inline runtime_config recovery_config(const temp_dir& dir) {
  runtime_config config;
  config.state_dir = dir.path().string();
  config.checkpoint_interval = std::chrono::milliseconds{50};
  config.mode = execution_mode::streaming;
  config.batch_size = 64;
  config.input_buffer = 256;
  config.input_buffer_limit = 1024;
  return config;
}

/// Says loudly that the running test case cannot run on this machine, and why (say, it needs
/// root); the caller returns right after. Catch2 v2 cannot skip: run directly, the case passes
/// with this warning; ctest reports it skipped, as its output matches the
/// SKIP_REGULAR_EXPRESSION of tests/CMakeLists.txt. Nothing may be checked after it, or a
/// failure would pass for a skip.
inline void skip(const std::string& why) {
  WARN("SLUICE_TEST_SKIPPED: " << why);
}

/// The lines of a text file.
inline std::vector<std::string> read_lines(const std::string& path) {
  std::vector<std::string> lines;
  std::ifstream in{path};
  for (std::string line; std::getline(in, line);)
    lines.push_back(line);
  return lines;
}

/// The lines of every file a file sink writing `name` in `dir` left, at any parallelism (the
/// file `name`, or its parts `name.part-<i>`).
inline std::vector<std::string> sink_output_lines(const temp_dir& dir, const std::string& name) {
  std::vector<std::string> lines;
  for (const auto& entry : std::filesystem::directory_iterator{dir.path()}) {
    auto file = entry.path().filename().string();
    if (file == name || file.starts_with(name + ".part-")) {
      auto more = read_lines(entry.path().string());
      lines.insert(lines.end(), more.begin(), more.end());
    }
  }
  return lines;
}

/// The last value seen per key in a changelog of (key, value) pairs.
template <class K, class V>
std::map<K, V> last_per_key(const std::vector<std::pair<K, V>>& changelog) {
  std::map<K, V> result;
  for (const auto& [k, v] : changelog)
    result[k] = v;
  return result;
}

/// Waits until every instance of `j` saw checkpoint `n` complete; false if that took too long.
inline bool wait_for_checkpoint(const job& j, uint64_t n) {
  return eventually([&] {
    auto stats = j.inspect();
    return !stats.empty() && std::all_of(stats.begin(), stats.end(), [n](const auto& s) {
      return s.checkpoint_completed >= n;
    });
  });
}

/// How often instance `index` of operator `op` has restarted (0 while it is not running).
inline uint64_t restarts_of(const job& j, const std::string& op, uint32_t index) {
  for (const auto& s : j.inspect())
    if (s.operator_name == op && s.instance == index)
      return s.restarts;
  return 0;
}

/// Kills instance `index` of operator `op` and waits until a new incarnation of it runs, or
/// until the job has ended (a kill that lands as the job ends restarts nothing); false if
/// neither happened in time.
inline bool kill_and_await_restart(job& j, const std::string& op, uint32_t index) {
  auto before = restarts_of(j, op, index);
  if (j.kill(op, index))
    return false;
  return eventually([&] {
    return restarts_of(j, op, index) > before
           || j.wait_for(std::chrono::milliseconds{0}).has_value();
  });
}

/// Kills the instances `targets` (operator name, index) of `j` one after another, `gap` apart,
/// each after the one before restarted, until all were killed or the job ended; returns how many
/// it killed.
inline size_t kill_in_turn(job& j, const std::vector<std::pair<std::string, uint32_t>>& targets,
                           std::chrono::milliseconds gap) {
  size_t kills = 0;
  for (; kills < targets.size() && !j.wait_for(gap); ++kills) {
    const auto& [op, instance] = targets[kills];
    REQUIRE(kill_and_await_restart(j, op, instance));
  }
  return kills;
}

/// Runs `p` until every instance saw checkpoint `n` complete, then stops it as a crash would
/// (nothing after the last completed checkpoint is kept).
inline void stop_after_checkpoints(pipeline& p, const runtime_config& config, uint64_t n) {
  runtime rt{config};
  auto job = rt.start(p);
  REQUIRE(job);
  REQUIRE(wait_for_checkpoint(*job, n));
  job->cancel();
  CHECK(job->wait());
}

/// Runs the job `make(p, rate)` describes in pipeline `name` twice over the same state: rate
/// limited until checkpoint 3 completed, stopped there as by a crash, then restored and at full
/// speed to its end. Returns the second run's error.
template <class Make>
caf::error run_stopped_and_restored(const std::string& name, const runtime_config& config,
                                    Make make, double slow_rate = 20'000) {
  {
    pipeline p{name};
    make(p, slow_rate);
    stop_after_checkpoints(p, config, 3);
  }
  pipeline p{name};
  make(p, 0);
  runtime rt{config};
  return rt.run(p);
}

/// Runs the job `make(p, supervision)` describes in pipeline `name`, with its state under
/// `state` (recovery_config) and restarts allowed, killing `targets` one at a time `gap` apart
/// once two checkpoints completed (at least two before the job ends). Returns the job's error.
template <class Make>
caf::error run_killing(const std::string& name, const temp_dir& state, Make make,
                       const std::vector<std::pair<std::string, uint32_t>>& targets,
                       std::chrono::milliseconds gap = std::chrono::milliseconds{150}) {
  pipeline p{name};
  supervision tolerant;
  tolerant.intensity.max_restarts = 100;
  make(p, tolerant);
  runtime rt{recovery_config(state)};
  auto j = rt.start(p);
  REQUIRE(j);
  REQUIRE(wait_for_checkpoint(*j, 2));
  CHECK(kill_in_turn(*j, targets, gap) >= 2);
  return j->wait();
}

/// The resident set size of this process in bytes (from /proc/self/statm).
inline uint64_t resident_bytes() {
  std::ifstream statm{"/proc/self/statm"};
  uint64_t size = 0;
  uint64_t resident = 0;
  statm >> size >> resident;
  return resident * 4096;
}

} // namespace sluice::test
