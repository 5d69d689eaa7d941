#include "sluice/cluster/node_links.hpp"

#include <chrono>
#include <utility>

#include <caf/io/middleman.hpp>
#include <caf/openssl/publish.hpp>
#include <caf/openssl/remote_actor.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>

#include "sluice/error.hpp"

namespace sluice::cluster {

namespace {

/// How long a handshake may take once connected.
constexpr std::chrono::seconds handshake_timeout{10};

} // namespace

node_links::node_links(caf::actor_system& system, const node_config& config, node_agent_actor agent,
                       std::string graph)
  : system_(&system), config_(&config), agent_(agent), graph_(std::move(graph)) {
  const auto& host = config.listen_host();
  auto port = config.tls
                ? caf::openssl::publish(agent, config.listen_port(), host.c_str(), true)
                : system.middleman().publish(agent, config.listen_port(), host.c_str(), true);
  if (!port)
    throw failure(errc::configuration,
                  "node '" + config.node + "' cannot listen on " + config.listen + ": "
                    + system.render(port.error()),
                  config.listen);
  address_ = config.advertise.empty() ? host + ":" + std::to_string(*port) : config.advertise;
}

node_links::~node_links() {
  caf::anon_send_exit(agent_, caf::exit_reason::user_shutdown);
}

caf::expected<node_agent_actor> node_links::connect(const std::string& name,
                                                    const std::string& address) {
  auto refused = [&](const std::string& what) {
    return make_error(
      errc::configuration,
      "node '" + config_->node + "' cannot link to node '" + name + "' at " + address + ": " + what,
      name);
  };
  std::string host;
  uint16_t port = 0;
  if (!split_address(address, host, port) || port == 0)
    return refused("not host:port");
  auto agent = config_->tls ? caf::openssl::remote_actor<node_agent_actor>(*system_, host, port)
                            : system_->middleman().remote_actor<node_agent_actor>(host, port);
  if (!agent)
    return refused(system_->render(agent.error())
                   + (config_->tls
                        ? " (no mutual TLS session: is its certificate from this cluster's CA, "
                          "and does it speak TLS?)"
                        : " (does it expect TLS?)"));
  caf::expected<node_agent_actor> result = refused("no answer");
  caf::scoped_actor self{*system_};
  self
    ->request(*agent, handshake_timeout, hello_atom::value, graph_, config_->node,
              caf::actor_cast<caf::strong_actor_ptr>(agent_))
    .receive(
      [&](const std::string& their_name) {
        if (their_name == name)
          result = *agent;
        else
          result = refused("node '" + their_name + "' answers there");
      },
      [&](caf::error& err) {
        auto info = info_of(err);
        result = refused(info ? info->message : system_->render(err));
      });
  return result;
}

} // namespace sluice::cluster
