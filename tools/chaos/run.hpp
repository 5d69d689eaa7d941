#pragma once

// One chaos run: a job, the faults injected into it, and the verdict on its output.

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "kafka_broker.hpp"
#include "shapes.hpp"
#include "verdict.hpp"

namespace chaos {

/// Which faults the in-process runs inject.
enum class fault_kind {
  kill,   ///< the instance is killed as a crash would
  throw_, ///< the instance's user code throws on one of its next 500 records
  both,
};

/// What a run does.
struct run_options {
  const shape* job_shape = nullptr;
  sink_kind sink = sink_kind::collect;
  uint32_t seed = 1;
  uint64_t records = 1'800'000;
  double rate = 150'000;
  /// In-process faults: how many, of which kind, on which operators (empty: all of the
  /// shape's), one every `min_gap` to `max_gap`.
  uint64_t faults = 1'000;
  fault_kind kind = fault_kind::both;
  std::vector<std::string> targets;
  std::chrono::milliseconds min_gap{10};
  std::chrono::milliseconds max_gap{50};
  /// Whole-process SIGKILLs (the job runs in a child process, restarted over its state
  /// directory after each); 0 runs the job in this process.
  uint64_t process_kills = 0;
  /// How long the job may take before it counts as hung.
  std::chrono::seconds timeout{300};
  /// For the Kafka sink: the broker (null: none could be started, and the run is skipped).
  kafka_broker* kafka = nullptr;
};

/// What a run did and found.
struct run_result {
  uint64_t faults = 0;
  uint64_t kills = 0;
  uint64_t throws = 0;
  uint64_t process_kills = 0;
  /// Restarts of instances, summed over the instances.
  uint64_t restarts = 0;
  /// From each kill to its instance's new incarnation, in milliseconds.
  std::vector<double> recovery_ms;
  double seconds = 0;
  /// The job's error, "hung" when it did not end within the timeout, or empty.
  std::string error;
  /// Why the run was not made (the Kafka sink without a broker), or empty.
  std::string skipped;
  verdict outcome;

  [[nodiscard]] bool passed() const noexcept {
    return error.empty() && skipped.empty() && outcome.exact();
  }
};

/// The runtime settings of every chaos job: LMDB state under `state_dir`, a checkpoint every
/// 50 ms, streaming mode, batches of 64 and credit of 256 per channel.
sluice::runtime_config job_config(const std::string& state_dir);

/// The job of `options`, ending in `out` (collect) if given, else in files at `path`.
job_spec make_spec(const run_options& options, std::vector<sum_record>* out,
                   const std::string& path);

/// Runs the job of `options` in this process, injecting its in-process faults.
run_result run_in_process(const run_options& options);

/// Runs the job of `options` as child processes of `self` (this program) killed with SIGKILL
/// `options.process_kills` times, each a random moment after the run completed a checkpoint,
/// then once to its end.
run_result run_killed_processes(const run_options& options, const std::string& self);

/// The child's side of `run_killed_processes`: runs the job over `state_dir` to its end,
/// writing its results to `out` (write_file). Returns the process's exit code.
int run_child(const run_options& options, const std::string& state_dir, const std::string& out);

} // namespace chaos
