#include "sluice/cluster/node_agent.hpp"

#include <utility>

#include <caf/send.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "sluice/error.hpp"

namespace sluice::cluster {

namespace {

// Spawned with its arguments rather than as a lambda that captures them: CAF 0.17 binds a
// reference to a null tuple for an actor function without arguments (UBSan reports it).
node_agent_actor::behavior_type agent(std::string node, std::string graph, caf::actor inbox,
                                      std::function<void(const std::string&)> log) {
  // The node receives on a dynamically typed actor, to which a typed one sends anonymously.
  auto pass_on = [inbox](auto& msg) {
    if (inbox)
      caf::anon_send(inbox, std::move(msg));
  };
  return {
    [node = std::move(node), graph = std::move(graph), inbox, log = std::move(log)](
      hello_atom, const std::string& their_graph, const std::string& their_node,
      caf::strong_actor_ptr& their_agent) -> caf::result<std::string> {
      if (their_graph == graph) {
        if (inbox)
          caf::anon_send(inbox, hello_atom::value, their_node, std::move(their_agent));
        return node;
      }
      auto message = "node '" + node + "' refuses node '" + their_node + "': it runs graph "
                     + their_graph + ", this cluster runs graph " + graph;
      if (log)
        log(message);
      return make_error(errc::configuration, message, their_node);
    },
    [pass_on](deploy_msg& msg) { pass_on(msg); },
    [pass_on](spawned_msg& msg) { pass_on(msg); },
    [pass_on](wire_msg& msg) { pass_on(msg); },
    [pass_on](node_report_msg& msg) { pass_on(msg); },
    [pass_on](job_command_msg& msg) { pass_on(msg); },
    [pass_on](instance_moved_msg& msg) { pass_on(msg); },
  };
}

} // namespace

node_agent_actor spawn_node_agent(caf::actor_system& system, std::string node, std::string graph,
                                  caf::actor inbox, std::function<void(const std::string&)> log) {
  return system.spawn(agent, std::move(node), std::move(graph), std::move(inbox), std::move(log));
}

} // namespace sluice::cluster
