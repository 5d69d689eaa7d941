#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <caf/actor.hpp>
#include <caf/error.hpp>
#include <caf/expected.hpp>

#include "sluice/config.hpp"
#include "sluice/interfaces.hpp"
#include "sluice/stats.hpp"

namespace caf {
class actor_system;
class actor_system_config;
} // namespace caf

namespace sluice {

class pipeline;
struct job_outcome;

namespace detail {
class graph;
} // namespace detail

/// A running pipeline.
class job {
public:
  /// Blocks until the pipeline has ended; returns its first error, or no error.
  ///
  /// Errors (`info_of` gives their fields):
  /// - `errc::user_code`, `errc::state`, `errc::io`, `errc::kafka`: an instance failed and was
  ///   not restarted (no checkpoints, or `failure_policy::fail`); operator, instance and the
  ///   path, topic or table involved are set.
  /// - `errc::gave_up`: a supervisor gave up after too many restarts; the fields are those of
  ///   the last failure, whose code is `cause`.
  /// - `errc::protocol`: Sluice's channel protocol broke (a bug in Sluice).
  /// - `errc::io` / `errc::state` from the checkpoint coordinator: the checkpoint record could
  ///   not be written (its path is the subject).
  /// - `errc::cancelled`: `cancel` was called.
  [[nodiscard]] caf::error wait();

  /// Waits at most `timeout`; empty if the pipeline is still running.
  [[nodiscard]] std::optional<caf::error> wait_for(std::chrono::milliseconds timeout);

  /// Stops every instance; `wait` then returns an `errc::cancelled` error.
  void cancel();

  /// Samples the counters of every live instance.
  [[nodiscard]] std::vector<instance_stats> inspect() const;

  /// The statistics of the job's last checkpoints (at most 100), oldest first; empty when the
  /// job takes no checkpoints.
  [[nodiscard]] std::vector<checkpoint_stats> checkpoints() const;

  /// Triggers a checkpoint now (or right after the one in flight); returns its id.
  /// Errors: `errc::configuration` if the job takes no checkpoints
  /// (runtime_config::checkpoint_interval is 0); `errc::cancelled` if it is ending.
  [[nodiscard]] caf::expected<uint64_t> checkpoint_now();

  /// Fault injection: kills instance `instance` of operator `operator_name` as a crash would;
  /// its supervisor handles the failure (as an `errc::user_code` failure of that instance).
  /// Errors: `errc::configuration`, with the operator name as subject, if there is no such
  /// operator or instance.
  caf::error kill(const std::string& operator_name, uint32_t instance);

  /// Fault injection: the instance fails as if its user code threw on the `fault.throw_at`-th
  /// record it handles from now on, and sleeps `fault.delay_us` per batch.
  /// Errors: `errc::configuration`, with the operator name as subject, if there is no such
  /// operator or instance.
  caf::error inject_fault(const std::string& operator_name, uint32_t instance,
                          inject_fault_msg fault);

private:
  friend class runtime;

  /// The live incarnation of an instance, or an error naming what is unknown.
  caf::expected<control_actor> instance(const std::string& operator_name, uint32_t index) const;

  caf::actor_system* system_ = nullptr;
  caf::actor supervisor_;
  std::shared_ptr<detail::graph> graph_;
  coordinator_actor coordinator_;
  std::shared_ptr<job_outcome> outcome_;
};

/// Readies an actor system's configuration for Sluice's jobs under `config`: its worker
/// threads, its scheduler and the protocol's message types. A runtime does it for the system it
/// owns, a cluster node for its own.
void configure_actor_system(caf::actor_system_config& cfg, const runtime_config& config);

/// Runs pipelines on an actor system it owns.
class runtime {
public:
  runtime();
  explicit runtime(runtime_config config);
  ~runtime();

  runtime(const runtime&) = delete;
  runtime& operator=(const runtime&) = delete;

  /// Runs a bounded pipeline to its end; returns its first error, or no error. An unbounded
  /// pipeline runs until an error: use `start` to keep a handle that can cancel it. Errors: those
  /// of `start`, then those of `job::wait`.
  [[nodiscard]] caf::error run(pipeline& p);

  /// Starts a pipeline; the job handle waits for, inspects or cancels it.
  ///
  /// Errors (`info_of` gives their fields):
  /// - `errc::configuration`: the pipeline or the runtime's settings are wrong (no source or
  ///   sink, a stream nobody consumes, parallelism 0, unequal parallelism on `forward()`,
  ///   batch mode over an unbounded source, skipped records without dead letters, ...); the
  ///   operator, if the error is one's, is set.
  /// - `errc::state`: the state directory holds state of another pipeline shape or an
  ///   unreadable checkpoint record; its path is the subject.
  [[nodiscard]] caf::expected<job> start(pipeline& p);

  [[nodiscard]] const runtime_config& config() const noexcept { return config_; }

  [[nodiscard]] caf::actor_system& system() noexcept;

private:
  struct impl;
  runtime_config config_;
  std::unique_ptr<impl> impl_;
};

} // namespace sluice
