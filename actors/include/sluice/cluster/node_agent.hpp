#pragma once

// The actor by which a node of a cluster answers the others (docs/cluster.md).

#include <functional>
#include <string>

#include <caf/actor_system.hpp>
#include <caf/atom.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

namespace sluice::cluster {

using hello_atom = caf::atom_constant<caf::atom("hello")>;

/// A node's agent: what a node publishes on its listen address. For now it shakes hands: a
/// node that connects says `hello` with the graph it runs and its name, and the agent answers
/// with its own node's name, or with an `errc::configuration` error if the graphs differ (the
/// nodes were built from other pipelines, or other versions of one).
using node_agent_actor =
  caf::typed_actor<caf::replies_to<hello_atom, std::string, std::string>::with<std::string>>;

/// Spawns the agent of node `node`, which runs graph `graph`. `log` hears of every node it
/// refuses, in words for the node's log.
node_agent_actor spawn_node_agent(caf::actor_system& system, std::string node, std::string graph,
                                  std::function<void(const std::string&)> log);

} // namespace sluice::cluster
