#pragma once

#include <cstddef>
#include <memory>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

#include "sluice/detail/graph.hpp"

namespace sluice {

/// How an operator supervisor starts.
enum class operator_start {
  /// Its instances are spawned already: it watches them.
  adopt,
  /// Its parent restarts the operator: it restarts every instance, replaying the logged input
  /// order (its upstream resends what it sent) ...
  restart_replaying,
  /// ... or not (its upstream regenerates its output afresh as well).
  restart_afresh,
};

/// Spawns the supervisor of the instances of operator `node` of the running job `g`.
///
/// It monitors the instances. When one fails, it restarts it from the job's last completed
/// checkpoint, after a backoff: alone, or with all others, or with those of higher index (the
/// operator's restart strategy). The new incarnation restores its state, has its upstream
/// replay what it sent since that checkpoint, and replays it in the logged order, so its
/// downstream sees no record lost or twice (docs/architecture.md, "Recovery").
///
/// It gives up when restarts exceed the operator's intensity, when the operator's failure
/// policy is `fail`, or when the job takes no checkpoints (nothing to recover from): it stops
/// its remaining instances and exits with the error (wrapped in one naming the limit, when it
/// restarted before), for its parent to handle. It exits normally once all instances finished.
/// An exit message stops it: it stops its instances and exits once they have (normally, if
/// the reason was user_shutdown).
caf::actor spawn_operator_supervisor(caf::actor_system& sys, std::shared_ptr<detail::graph> g,
                                     size_t node, operator_start how);

} // namespace sluice
