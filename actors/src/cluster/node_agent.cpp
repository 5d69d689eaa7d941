#include "sluice/cluster/node_agent.hpp"

#include <utility>

#include <caf/typed_event_based_actor.hpp>

#include "sluice/error.hpp"

namespace sluice::cluster {

namespace {

// Spawned with its arguments rather than as a lambda that captures them: CAF 0.17 binds a
// reference to a null tuple for an actor function without arguments (UBSan reports it).
node_agent_actor::behavior_type agent(std::string node, std::string graph,
                                      std::function<void(const std::string&)> log) {
  return {
    [node = std::move(node), graph = std::move(graph), log = std::move(log)](
      hello_atom, const std::string& their_graph,
      const std::string& their_node) -> caf::result<std::string> {
      if (their_graph == graph)
        return node;
      auto message = "node '" + node + "' refuses node '" + their_node + "': it runs graph "
                     + their_graph + ", this cluster runs graph " + graph;
      if (log)
        log(message);
      return make_error(errc::configuration, message, their_node);
    },
  };
}

} // namespace

node_agent_actor spawn_node_agent(caf::actor_system& system, std::string node, std::string graph,
                                  std::function<void(const std::string&)> log) {
  return system.spawn(agent, std::move(node), std::move(graph), std::move(log));
}

} // namespace sluice::cluster
