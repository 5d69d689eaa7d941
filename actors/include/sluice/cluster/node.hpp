#pragma once

// Running one pipeline on several nodes (docs/cluster.md, "Running a job").

#include <caf/error.hpp>

#include "sluice/cluster/node_config.hpp"
#include "sluice/config.hpp"

namespace sluice {
class pipeline;
} // namespace sluice

namespace sluice::cluster {

/// Runs pipeline `p` as one node of a cluster, until the job ends on every node: what a node's
/// `main` calls, the same program on every node (with another `--sluice.node` name).
///
/// The node reads its settings from `argv`, `env` and the config file (node_config), joins the
/// cluster through Kafka (membership: group `sluice.<pipeline>`, slots topic
/// `<pipeline>.slots`, members topic `<pipeline>.members`, which must exist), links to every
/// other node over mutual TLS, and once at least `sluice.min-nodes` nodes share out every slot,
/// the node of slot 0 leads the job's start: every node spawns the instances of its slots
/// (instance i of each operator runs in slot i mod the slot count), the leader runs the
/// checkpoint coordinator, and records cross between nodes over CAF's middleman under
/// Sluice's credit. `config` is as for a single process; each node keeps its state under
/// `sluice.state-dir`.
///
/// Returns no error once the job is done (a bounded one read everything, every sink finished
/// on every node) or `--help` printed the settings; otherwise the first error of any node
/// (see job::wait), or an `errc::configuration` error naming a wrong setting or what failed
/// while the cluster formed.
caf::error run_node(pipeline& p, int argc, char** argv, runtime_config config = {},
                    const environment& env = sluice_environment());

} // namespace sluice::cluster
