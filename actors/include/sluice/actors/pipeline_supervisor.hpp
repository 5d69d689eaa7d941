#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/atom.hpp>
#include <caf/error.hpp>

#include "sluice/detail/graph.hpp"

namespace sluice {

/// Where a job's outcome lands: set once by its supervisor, read by `job::wait`.
struct job_outcome {
  std::mutex mutex;
  std::condition_variable done;
  std::optional<caf::error> result;

  void set(caf::error err);
};

/// In a cluster, the supervisor of each node tells the node (`job_settings::cluster_observer`)
/// once the node's sinks finished, and the node tells it once the whole job's did.
using sinks_done_atom = caf::atom_constant<caf::atom("sinksdone")>;
using job_done_atom = caf::atom_constant<caf::atom("jobdone")>;

/// Spawns the supervisor of running job `g`: one operator supervisor per operator, whose
/// instances are spawned and wired already.
///
/// An operator supervisor that gives up escalates here. The pipeline's supervision says what
/// then: by default the job fails with that operator's error; with restarts allowed, the failed
/// operator restarts whole (one_for_one), with every operator downstream of it (rest_for_one:
/// the region it feeds, regenerated afresh) or with all operators (one_for_all), until the
/// pipeline's own intensity is exceeded and the job fails with an error naming the chain.
///
/// The job ends once every sink finished: instances that stayed to replay for a restarted
/// neighbour are stopped then. An exit message sent to the supervisor cancels the job. Either
/// way it stops the checkpoint coordinator last and sets the outcome.
///
/// In a cluster it supervises the instances of its node only; the job ends when the node
/// says so (`job_done_atom`), and the coordinator is stopped by the node that runs it.
caf::actor spawn_pipeline_supervisor(caf::actor_system& sys, std::shared_ptr<detail::graph> g,
                                     std::shared_ptr<job_outcome> outcome);

} // namespace sluice
