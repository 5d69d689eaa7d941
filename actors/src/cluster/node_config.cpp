#include "sluice/cluster/node_config.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <caf/io/middleman.hpp>
#include <caf/openssl/manager.hpp>

#include "sluice/error.hpp"

extern char** environ; // NOLINT: POSIX declares it nowhere else

namespace sluice::cluster {

namespace {

/// Each environment variable and the setting it stands for.
constexpr std::array<std::pair<std::string_view, std::string_view>, 13> variables{{
  {"SLUICE_NODE", "sluice.node"},
  {"SLUICE_BROKERS", "sluice.brokers"},
  {"SLUICE_LISTEN", "sluice.listen"},
  {"SLUICE_ADVERTISE", "sluice.advertise"},
  {"SLUICE_TLS", "sluice.tls"},
  {"SLUICE_SESSION_TIMEOUT", "sluice.session-timeout"},
  {"SLUICE_STATE_DIR", "sluice.state-dir"},
  {"SLUICE_MIN_NODES", "sluice.min-nodes"},
  {"SLUICE_SLOTS", "sluice.slots"},
  {"SLUICE_TLS_CERTIFICATE", "openssl.certificate"},
  {"SLUICE_TLS_KEY", "openssl.key"},
  {"SLUICE_TLS_PASSPHRASE", "openssl.passphrase"},
  {"SLUICE_TLS_CA_FILE", "openssl.cafile"},
}};

/// The environment variable of `setting`, for error messages.
std::string variable_of(std::string_view setting) {
  for (const auto& [variable, name] : variables)
    if (name == setting)
      return std::string{variable};
  return {};
}

/// "setting (--setting, VARIABLE)": how a message names a setting.
std::string named(std::string_view setting) {
  auto variable = variable_of(setting);
  return std::string{setting} + " (--" + std::string{setting}
         + (variable.empty() ? "" : ", " + variable) + ")";
}

caf::error bad(std::string_view setting, const std::string& what) {
  return make_error(errc::configuration, "node setting " + named(setting) + ": " + what,
                    std::string{setting});
}

bool wildcard(const std::string& host) {
  return host == "0.0.0.0" || host == "::" || host == "*";
}

bool readable_file(const std::string& path) {
  std::error_code ec;
  return std::filesystem::is_regular_file(path, ec) && std::ifstream{path}.good();
}

} // namespace

bool split_address(const std::string& address, std::string& host, uint16_t& port) {
  auto colon = address.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == address.size())
    return false;
  host = address.substr(0, colon);
  if (host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  auto digits = std::string_view{address}.substr(colon + 1);
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
  return ec == std::errc{} && end == digits.data() + digits.size() && !host.empty();
}

environment sluice_environment() {
  environment env;
  for (char** entry = environ; entry && *entry; ++entry) {
    std::string_view text{*entry};
    auto equals = text.find('=');
    if (equals != std::string_view::npos && text.starts_with("SLUICE_"))
      env.emplace(text.substr(0, equals), text.substr(equals + 1));
  }
  return env;
}

node_config::node_config() {
  opt_group{custom_options_, "sluice"}
    .add(node, "node", "this node's name: unique in the cluster, the same after a restart")
    .add(brokers, "brokers", "Kafka's bootstrap.servers (membership, placement, fencing)")
    .add(listen, "listen", "where this node listens for the other nodes (host:port)")
    .add(advertise, "advertise", "where the other nodes reach this one (default: listen)")
    .add(tls, "tls", "mutual TLS between nodes (needs openssl.certificate, key, cafile)")
    .add(session_timeout, "session-timeout", "how long Kafka waits for a silent node")
    .add(state_dir, "state-dir", "where this node keeps its instances' state")
    .add(min_nodes, "min-nodes", "how many nodes the cluster waits for before a job starts")
    .add(slots, "slots",
         "partitions of the slots topic if a node creates it (default: the "
         "pipeline's highest parallelism)");
}

caf::error node_config::read(int argc, char** argv, const environment& env) {
  // Flags win over variables, which win over the config file: the variables go first on the
  // command line, which CAF reads after the file, each later flag overriding an earlier one.
  string_list args;
  for (const auto& [variable, setting] : variables)
    if (auto i = env.find(std::string{variable}); i != env.end())
      args.push_back("--" + std::string{setting} + "=" + i->second);
  for (int i = 1; i < argc; ++i)
    args.emplace_back(argv[i]);
  // CAF's command line takes a boolean only as a bare flag (`--sluice.tls`), not with a value:
  // `--sluice.tls=false` (and SLUICE_TLS=false) are read here, the last one winning.
  std::optional<std::string> tls_value;
  std::erase_if(args, [&](const std::string& arg) {
    if (!arg.starts_with("--sluice.tls="))
      return false;
    tls_value = arg.substr(std::string_view{"--sluice.tls="}.size());
    return true;
  });
  if (auto err = parse(std::move(args)))
    return make_error(errc::configuration,
                      "node settings: " + caf::to_string(err)
                        + " (flags are --category.name=value, e.g. --sluice.node=a)");
  if (cli_helptext_printed)
    return {};
  if (tls_value) {
    if (*tls_value == "true" || *tls_value == "on" || *tls_value == "1")
      tls = true;
    else if (*tls_value == "false" || *tls_value == "off" || *tls_value == "0")
      tls = false;
    else
      return bad("sluice.tls", "'" + *tls_value + "' is neither true nor false");
  }
  if (auto err = check())
    return err;
  // BASP notices a silent peer only with heartbeats, which CAF 0.17 turns off by default: unless
  // set otherwise, a peer silent for the session timeout is dropped, as Kafka drops it from the
  // group (a killed peer's connection drops at once). A shorter timeout would drop peers of a
  // loaded machine that Kafka keeps.
  if (!caf::get_if(&content, "middleman.connection-timeout"))
    set("middleman.connection-timeout", session_timeout);
  if (!caf::get_if(&content, "middleman.heartbeat-interval"))
    set("middleman.heartbeat-interval",
        std::max(caf::timespan{std::chrono::milliseconds{100}}, session_timeout / 10));
  load<caf::io::middleman>();
  if (tls)
    load<caf::openssl::manager>();
  return {};
}

caf::error node_config::check() {
  if (node.empty())
    return bad("sluice.node", "missing: every node needs a name");
  if (node.size() > 249 || !std::all_of(node.begin(), node.end(), [](unsigned char c) {
        return std::isalnum(c) || c == '.' || c == '_' || c == '-';
      }))
    return bad("sluice.node", "'" + node + "' is not a name: use up to 249 letters, digits, '.', "
                              "'_' and '-'");
  if (brokers.empty())
    return bad("sluice.brokers", "missing: a node finds its cluster through Kafka");
  if (!split_address(listen, listen_host_, listen_port_))
    return bad("sluice.listen", "'" + listen + "' is not host:port");
  if (advertise.empty() && wildcard(listen_host_))
    return bad("sluice.advertise", "missing: the node listens on every interface (" + listen
                                     + "), so say where the other nodes reach it");
  std::string host;
  uint16_t port = 0;
  if (!advertise.empty() && (!split_address(advertise, host, port) || port == 0))
    return bad("sluice.advertise", "'" + advertise + "' is not host:port with a port above 0");
  if (session_timeout <= caf::timespan::zero())
    return bad("sluice.session-timeout", "must be above 0");
  if (min_nodes == 0)
    return bad("sluice.min-nodes", "must be at least 1");
  const std::array<std::pair<std::string_view, const std::string*>, 3> tls_files{{
    {"openssl.certificate", &openssl_certificate},
    {"openssl.key", &openssl_key},
    {"openssl.cafile", &openssl_cafile},
  }};
  for (const auto& [setting, path] : tls_files) {
    if (!tls) {
      if (!path->empty())
        return bad(setting, "is set, but sluice.tls is false: turn TLS on, or leave it unset");
    } else if (path->empty()) {
      return bad(setting,
                 "missing: nodes speak mutual TLS, which needs a certificate, its key "
                 "and the cluster's CA file (or set sluice.tls=false)");
    } else if (!readable_file(*path)) {
      return bad(setting, "cannot read '" + *path + "'");
    }
  }
  if (!openssl_capath.empty())
    return bad("openssl.capath", "not supported: give the cluster's CA as openssl.cafile");
  return {};
}

} // namespace sluice::cluster
