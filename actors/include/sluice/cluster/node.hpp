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
/// `<pipeline>.slots`, members topic `<pipeline>.members`, which must exist) and links to every
/// other node over mutual TLS. Once at least `sluice.min-nodes` nodes are members, every node
/// computes the same placement of the slots on them (rendezvous hashing: the same nodes, the
/// same placement, also after restarts); instance i of each operator runs in slot i mod the
/// slot count. The node of slot 0 leads the job's start and runs the checkpoint coordinator;
/// records cross between nodes over CAF's middleman under Sluice's credit. `config` is as for
/// a single process; each node keeps its state under `sluice.state-dir`, and refuses to run a
/// part of the job its state does not fit (docs/cluster.md, "Restarting a job").
///
/// Returns no error once the job is done (a bounded one read everything, every sink finished
/// on every node) or `--help` printed the settings; otherwise the first error of any node
/// (see job::wait), or an `errc::configuration` error naming a wrong setting or what failed
/// while the cluster formed.
caf::error run_node(pipeline& p, int argc, char** argv, runtime_config config = {},
                    const environment& env = sluice_environment());

} // namespace sluice::cluster
