// A node's settings (flags, environment, config file) and its links to other nodes over CAF's
// middleman: mutual TLS with certificates of the cluster's CA (tools/cluster-certs), and the
// refusals of a node with a certificate of another CA, one without TLS, and one of another
// graph. Each node here is an actor system of its own in this process, on 127.0.0.1.

#include <catch2/catch.hpp>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <caf/actor_system.hpp>

#include "sluice/cluster/node_agent.hpp"
#include "sluice/cluster/node_config.hpp"
#include "sluice/cluster/node_links.hpp"
#include "sluice/error.hpp"

#include "support/build_paths.hpp"
#include "support/kafka_support.hpp"
#include "support/test_support.hpp"

using namespace sluice;
using namespace sluice::cluster;

namespace {

/// Reads `cfg` from `args` (after the program name) and `env`.
caf::error read(node_config& cfg, std::vector<std::string> args, const environment& env = {}) {
  std::vector<char*> argv{const_cast<char*>("node")};
  for (auto& a : args)
    argv.push_back(a.data());
  return cfg.read(static_cast<int>(argv.size()), argv.data(), env);
}

/// The message of a Sluice error, or what CAF makes of another.
std::string message_of(const caf::error& err) {
  auto info = info_of(err);
  return info ? info->message : caf::to_string(err);
}

/// Makes the CA in `dir` and the certificates of `nodes` with tools/cluster-certs.
void make_certificates(const std::string& dir, const std::string& nodes) {
  auto [status, out] =
    test::run_command(test::source_dir() + "/tools/cluster-certs " + dir + " " + nodes + " 2>&1");
  INFO(out);
  REQUIRE(status == 0);
}

/// The TLS flags of node `name` with the certificates in `dir`.
std::vector<std::string> tls_flags(const std::string& dir, const std::string& name) {
  return {"--openssl.certificate=" + dir + "/" + name + ".pem",
          "--openssl.key=" + dir + "/" + name + ".key", "--openssl.cafile=" + dir + "/ca.pem"};
}

/// A node: its settings, actor system, agent and links, and what its agent logged.
struct node {
  node(const std::string& name, std::vector<std::string> flags, const std::string& graph = "g1") {
    flags.push_back("--sluice.node=" + name);
    flags.push_back("--sluice.brokers=127.0.0.1:9");
    REQUIRE_FALSE(read(config, flags));
    system = std::make_unique<caf::actor_system>(config);
    auto agent = spawn_node_agent(*system, name, graph, nullptr, [this](const std::string& line) {
      std::lock_guard lock{mutex};
      log.push_back(line);
    });
    links = std::make_unique<node_links>(*system, config, agent, graph);
  }

  [[nodiscard]] std::vector<std::string> logged() {
    std::lock_guard lock{mutex};
    return log;
  }

  node_config config;
  std::unique_ptr<caf::actor_system> system;
  std::unique_ptr<node_links> links;
  std::mutex mutex;
  std::vector<std::string> log;
};

} // namespace

TEST_CASE("node settings come from flags, then environment variables, then the config file") {
  test::temp_dir dir;
  {
    std::ofstream ini{dir.file("node.ini")};
    ini << "[sluice]\nnode=\"from-file\"\nbrokers=\"file:9092\"\nstate-dir=\"/file\"\n"
           "session-timeout=3s\ntls=false\n";
  }
  node_config cfg;
  REQUIRE_FALSE(read(cfg, {"--config-file=" + dir.file("node.ini"), "--sluice.node=from-flag"},
                     {{"SLUICE_NODE", "from-env"}, {"SLUICE_BROKERS", "env:9092"}}));
  CHECK(cfg.node == "from-flag");
  CHECK(cfg.brokers == "env:9092");
  CHECK(cfg.state_dir == "/file");
  CHECK(cfg.session_timeout == std::chrono::seconds{3});
  CHECK_FALSE(cfg.tls);
  CHECK(cfg.listen_host() == "127.0.0.1");
  CHECK(cfg.listen_port() == 0);
}

TEST_CASE("node settings that are missing or wrong are refused, naming the setting") {
  test::temp_dir dir;
  make_certificates(dir.path(), "a");
  auto refusal = [&](std::vector<std::string> flags, const environment& env = {}) {
    node_config cfg;
    auto err = read(cfg, std::move(flags), env);
    REQUIRE(err);
    CHECK(info_of(err)->code == errc::configuration);
    return message_of(err);
  };
  std::vector<std::string> plain{"--sluice.node=a", "--sluice.brokers=k:9092",
                                 "--sluice.tls=false"};
  auto with = [&](std::vector<std::string> flags, std::vector<std::string> more) {
    flags.insert(flags.end(), more.begin(), more.end());
    return flags;
  };
  CHECK_THAT(refusal({"--sluice.brokers=k:9092", "--sluice.tls=false"}),
             Catch::Contains("sluice.node (--sluice.node, SLUICE_NODE): missing"));
  CHECK_THAT(refusal(with(plain, {"--sluice.node=a b"})), Catch::Contains("'a b' is not a name"));
  CHECK_THAT(refusal({"--sluice.node=a", "--sluice.tls=false"}),
             Catch::Contains("sluice.brokers") && Catch::Contains("missing"));
  CHECK_THAT(refusal(with(plain, {"--sluice.listen=7447"})),
             Catch::Contains("'7447' is not host:port"));
  CHECK_THAT(refusal(with(plain, {"--sluice.listen=0.0.0.0:7447"})),
             Catch::Contains("sluice.advertise") && Catch::Contains("every interface"));
  CHECK_THAT(refusal(with(plain, {"--sluice.sesion-timeout=3s"})),
             Catch::Contains("sluice.sesion-timeout"));
  CHECK_THAT(refusal({"--sluice.node=a", "--sluice.brokers=k:9092"}),
             Catch::Contains("openssl.certificate") && Catch::Contains("missing")
               && Catch::Contains("sluice.tls=false"));
  auto tls = tls_flags(dir.path(), "a");
  CHECK_THAT(refusal(with({"--sluice.node=a", "--sluice.brokers=k:9092"}, {tls[0], tls[1]})),
             Catch::Contains("openssl.cafile (--openssl.cafile, SLUICE_TLS_CA_FILE): missing"));
  CHECK_THAT(refusal({"--sluice.node=a", "--sluice.brokers=k:9092", tls[0], tls[1],
                      "--openssl.cafile=" + dir.file("nowhere.pem")}),
             Catch::Contains("cannot read '" + dir.file("nowhere.pem") + "'"));
  CHECK_THAT(refusal(with(plain, {tls[0]})),
             Catch::Contains("openssl.certificate") && Catch::Contains("sluice.tls is false"));
  CHECK_THAT(refusal({"--sluice.tls=false"}, {{"SLUICE_NODE", "x y"}, {"SLUICE_BROKERS", "k"}}),
             Catch::Contains("'x y' is not a name"));
  CHECK_THAT(refusal(with(plain, {"--sluice.tls=maybe"})),
             Catch::Contains("sluice.tls") && Catch::Contains("'maybe' is neither true nor false"));
}

TEST_CASE("nodes with certificates of the cluster's CA link over mutual TLS") {
  test::temp_dir dir;
  make_certificates(dir.path(), "a b c");
  node a{"a", tls_flags(dir.path(), "a")};
  node b{"b", tls_flags(dir.path(), "b")};
  node c{"c", tls_flags(dir.path(), "c")};
  auto a_to_b = a.links->connect("b", b.links->address());
  INFO((a_to_b ? std::string{"linked"} : message_of(a_to_b.error())));
  REQUIRE(a_to_b);
  auto wrong = c.links->connect("x", b.links->address());
  REQUIRE_FALSE(wrong);
  CHECK_THAT(message_of(wrong.error()), Catch::Contains("node 'b' answers there"));
}

TEST_CASE("a node with a certificate of another CA, or without TLS, is refused both ways") {
  test::temp_dir dir;
  make_certificates(dir.file("cluster"), "a");
  make_certificates(dir.file("other"), "c");
  node a{"a", tls_flags(dir.file("cluster"), "a")};
  node foreign{"c", tls_flags(dir.file("other"), "c")};
  node plain{"d", {"--sluice.tls=false"}};
  for (auto* outsider : {&foreign, &plain}) {
    auto in = outsider->links->connect("a", a.links->address());
    REQUIRE_FALSE(in);
    CHECK_THAT(message_of(in.error()),
               Catch::Contains("cannot link to node 'a' at " + a.links->address()));
    auto out = a.links->connect(outsider->config.node, outsider->links->address());
    REQUIRE_FALSE(out);
    CHECK_THAT(message_of(out.error()), Catch::Contains("no mutual TLS session"));
  }
}

TEST_CASE("a node of another graph is refused, and the refusal is logged on both sides") {
  test::temp_dir dir;
  make_certificates(dir.path(), "a e");
  node a{"a", tls_flags(dir.path(), "a"), "g1"};
  node e{"e", tls_flags(dir.path(), "e"), "g2"};
  auto linked = e.links->connect("a", a.links->address());
  REQUIRE_FALSE(linked);
  CHECK_THAT(message_of(linked.error()),
             Catch::Contains("node 'a' refuses node 'e': it runs graph g2, this cluster runs "
                             "graph g1"));
  CHECK(a.logged().size() == 1);
}

TEST_CASE("a peer that never answers the TLS handshake is refused after the session timeout") {
  test::temp_dir dir;
  make_certificates(dir.path(), "a");
  auto flags = tls_flags(dir.path(), "a");
  flags.push_back("--sluice.session-timeout=1s");
  node a{"a", flags};
  // A listener that never accepts: the kernel completes the TCP handshake, nobody answers TLS.
  int silent = socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(silent >= 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  REQUIRE(bind(silent, reinterpret_cast<sockaddr*>(&address), length) == 0);
  REQUIRE(listen(silent, 8) == 0);
  REQUIRE(getsockname(silent, reinterpret_cast<sockaddr*>(&address), &length) == 0);
  auto port = std::to_string(ntohs(address.sin_port));
  auto linked = a.links->connect("s", "127.0.0.1:" + port);
  close(silent);
  REQUIRE_FALSE(linked);
  CHECK_THAT(message_of(linked.error()),
             Catch::Contains("cannot link to node 's' at 127.0.0.1:" + port));
}
