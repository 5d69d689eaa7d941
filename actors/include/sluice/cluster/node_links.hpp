#pragma once

// How the nodes of a cluster reach each other (docs/cluster.md).

#include <chrono>
#include <string>

#include <caf/actor_system.hpp>
#include <caf/expected.hpp>

#include "sluice/cluster/node_agent.hpp"
#include "sluice/cluster/node_config.hpp"

namespace sluice::cluster {

/// A node's links to the others over CAF's middleman (BASP): its agent published on its listen
/// address, and connections to the agents of other nodes, each with a handshake. With TLS (the
/// node_config default) both ends prove themselves with certificates of the cluster's CA; a
/// peer without one, with one of another CA, or speaking plain TCP never gets to the handshake.
class node_links {
public:
  /// Publishes `agent` on the listen address of `config`, for nodes running graph `graph`.
  /// `system` must have been made from `config` (after `node_config::read`).
  /// @throws failure (errc::configuration) naming the address if it cannot be listened on.
  node_links(caf::actor_system& system, const node_config& config, node_agent_actor agent,
             std::string graph);
  /// Stops the agent: an actor system ends only once its actors have.
  ~node_links();

  node_links(const node_links&) = delete;
  node_links& operator=(const node_links&) = delete;

  /// Where the other nodes reach this one: the advertised address, else the listen host with
  /// the port the node got.
  [[nodiscard]] const std::string& address() const noexcept { return address_; }

  /// Connects to node `name` at `address` (host:port) and shakes hands with its agent.
  /// Returns the agent, or an `errc::configuration` error naming the node, the address and
  /// what failed: no connection, no TLS session (a certificate of another CA, none, or a peer
  /// without TLS), another graph, or another node at that address.
  [[nodiscard]] caf::expected<node_agent_actor> connect(const std::string& name,
                                                        const std::string& address);

private:
  caf::actor_system* system_;
  const node_config* config_;
  node_agent_actor agent_;
  std::string graph_;
  std::string address_;
};

} // namespace sluice::cluster
