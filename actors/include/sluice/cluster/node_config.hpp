#pragma once

// The settings of a node of a cluster (docs/cluster.md): from flags, environment variables and
// a CAF config file, as CAF's own settings are.

#include <chrono>
#include <cstdint>
#include <map>
#include <string>

#include <caf/actor_system_config.hpp>
#include <caf/error.hpp>

namespace sluice::cluster {

/// Environment variables, by name (what `read` takes in place of the process environment).
using environment = std::map<std::string, std::string>;

/// The process's environment variables whose names start with `SLUICE_`.
environment sluice_environment();

/// Splits "host:port" (the host may be a bracketed IPv6 address); false if it is not that.
bool split_address(const std::string& address, std::string& host, uint16_t& port);

/// A node's settings: an actor system configuration (CAF's own settings, `middleman.*` and
/// `openssl.*`, are set the same ways) with Sluice's in the category `sluice`.
///
/// Each setting comes, first found first, from a flag (`--sluice.node=a`, `--openssl.cafile=
/// ca.pem`), an environment variable (`SLUICE_NODE=a`, `SLUICE_TLS_CA_FILE=ca.pem`), the
/// config file (`caf-application.ini` in the working directory, or `--config-file=F`:
/// `[sluice]` then `node="a"`), or its default:
///
/// | setting                      | variable                 | default        |
/// |------------------------------|--------------------------|----------------|
/// | `sluice.node`                | `SLUICE_NODE`            | (required)     |
/// | `sluice.brokers`             | `SLUICE_BROKERS`         | (required)     |
/// | `sluice.listen`              | `SLUICE_LISTEN`          | 127.0.0.1:0    |
/// | `sluice.advertise`           | `SLUICE_ADVERTISE`       | the listen address |
/// | `sluice.tls`                 | `SLUICE_TLS`             | true           |
/// | `sluice.session-timeout`     | `SLUICE_SESSION_TIMEOUT` | 10s            |
/// | `sluice.state-dir`           | `SLUICE_STATE_DIR`       | sluice-state   |
/// | `sluice.min-nodes`           | `SLUICE_MIN_NODES`       | 1              |
/// | `sluice.slots`               | `SLUICE_SLOTS`           | the pipeline's highest parallelism |
/// | `openssl.certificate`        | `SLUICE_TLS_CERTIFICATE` |                |
/// | `openssl.key`                | `SLUICE_TLS_KEY`         |                |
/// | `openssl.passphrase`         | `SLUICE_TLS_PASSPHRASE`  |                |
/// | `openssl.cafile`             | `SLUICE_TLS_CA_FILE`     |                |
///
/// With TLS (the default), nodes speak to each other only over mutual TLS: certificate, key
/// and CA file must all be given, so that CAF never falls back to its anonymous cipher.
class node_config : public caf::actor_system_config {
public:
  node_config();

  /// Reads the settings from `argv`, `env` and the config file, and checks them. Returns an
  /// `errc::configuration` error naming the first setting that is missing or wrong, or an
  /// unknown flag; no error otherwise, also when `--help` printed the settings (see
  /// `cli_helptext_printed`).
  caf::error read(int argc, char** argv, const environment& env = sluice_environment());

  /// This node's name: unique in the cluster, the same after a restart; letters, digits and
  /// `._-` (it is the node's static member id in Kafka).
  std::string node;
  /// Kafka's bootstrap.servers: where membership, placement and fencing come from.
  std::string brokers;
  /// Where this node listens for the other nodes: host:port (port 0: any free port).
  std::string listen = "127.0.0.1:0";
  /// Where the other nodes reach this one; empty: the listen address (with the port it got).
  std::string advertise;
  /// Mutual TLS between nodes.
  bool tls = true;
  /// How long Kafka waits for a node that stopped answering before moving its slots.
  caf::timespan session_timeout = std::chrono::seconds{10};
  /// Where the node keeps its instances' state.
  std::string state_dir = "sluice-state";
  /// How many nodes the cluster waits for before a job starts.
  uint32_t min_nodes = 1;
  /// The partitions of the pipeline's slots topic when a node creates it (the slots a job's
  /// instances are placed in); 0: the pipeline's highest parallelism. A slots topic that
  /// exists must have them.
  uint32_t slots = 0;

  /// The listen address's host and port (valid after `read`).
  [[nodiscard]] const std::string& listen_host() const noexcept { return listen_host_; }
  [[nodiscard]] uint16_t listen_port() const noexcept { return listen_port_; }

private:
  caf::error check();

  std::string listen_host_;
  uint16_t listen_port_ = 0;
};

} // namespace sluice::cluster
