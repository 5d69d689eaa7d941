#pragma once

// The actor by which a node of a cluster answers the others (docs/cluster.md).

#include <functional>
#include <string>

#include <caf/actor.hpp>
#include <caf/actor_control_block.hpp>
#include <caf/actor_system.hpp>
#include <caf/atom.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "sluice/cluster/job_messages.hpp"

namespace sluice::cluster {

using hello_atom = caf::atom_constant<caf::atom("hello")>;

/// A node's agent: what a node publishes on its listen address.
///
/// A node that connects says `hello` with the graph it runs, its name and its own agent; the
/// agent answers with its node's name, or with an `errc::configuration` error if the graphs
/// differ (the nodes were built from other pipelines, or other versions of one). The job's
/// messages (job_messages.hpp) it hands to its node.
using node_agent_actor = caf::typed_actor<
  caf::replies_to<hello_atom, std::string, std::string, caf::strong_actor_ptr>::with<std::string>,
  caf::reacts_to<deploy_msg>, caf::reacts_to<spawned_msg>, caf::reacts_to<wire_msg>,
  caf::reacts_to<node_report_msg>, caf::reacts_to<job_command_msg>,
  caf::reacts_to<instance_moved_msg>>;

/// Spawns the agent of node `node`, which runs graph `graph`. `inbox` (if not null) gets the
/// job's messages, and a `(hello_atom, name, agent)` message for every node that linked to
/// this one; `log` hears of every node the agent refuses, in words for the node's log.
node_agent_actor spawn_node_agent(caf::actor_system& system, std::string node, std::string graph,
                                  caf::actor inbox, std::function<void(const std::string&)> log);

} // namespace sluice::cluster
