#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/error.hpp>

namespace sluice {

/// Where a job's outcome lands: set once by its monitor, read by `job::wait`.
struct job_outcome {
  std::mutex mutex;
  std::condition_variable done;
  std::optional<caf::error> result;

  void set(caf::error err);
};

/// Spawns the actor that watches every instance of a job.
///
/// The job ends when all instances have exited. The first instance that exits with an error
/// fails the job: the monitor stops every other instance and reports that first error, so a
/// failing pipeline never hangs. An exit message sent to the monitor cancels the job.
caf::actor spawn_job_monitor(caf::actor_system& sys, std::vector<caf::actor> instances,
                             std::shared_ptr<job_outcome> outcome);

} // namespace sluice
