// One pipeline run by three cluster nodes (sluice::cluster::run_node) against a real Kafka broker
// (tools/kafka-broker), which forms the cluster and places the instances: a keyed count, an
// event-time window and an interval join give exactly what one process gives, with records and
// checkpoint barriers crossing between the nodes over mutual TLS, and a Kafka-to-Kafka count
// with the exactly-once sink on every node writes every count once. Each node is an actor
// system of its own in this process, on 127.0.0.1. Bad settings are refused before a node
// joins anything; nodes create the pipeline's topics when they are missing, and refuse a slot
// count the existing topic does not have. Skipped, loudly, when the broker's prerequisites are
// missing.

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include "sluice/cluster/node.hpp"
#include "sluice/operators/kafka_sink.hpp"
#include "sluice/operators/kafka_source.hpp"

#include "support/amount_events.hpp"
#include "support/build_paths.hpp"
#include "support/exact_counts.hpp"
#include "support/kafka_counts.hpp"
#include "support/kafka_support.hpp"
#include "support/loopback_capture.hpp"
#include "support/test_support.hpp"

using namespace sluice;
using namespace std::chrono_literals;

namespace {

using event = test::amount_event;
using test::amount_event_of;
using test::amount_time_of;
using test::sum_amounts;

/// `events` events from a generator `name` with 3 instances, their times shifted by `shift`,
/// keyed by key.
auto keyed_events(pipeline& p, const std::string& name, uint64_t events, timestamp shift = 0) {
  return p
    .source(
      generate<event>(amount_event_of, {.count = events, .out_of_orderness = 40ms},
                      [shift](uint64_t i, const event&) { return amount_time_of(i) + shift; }))
    .parallelism(3)
    .name(name)
    .key_by(&event::first);
}

/// A broker, a cluster CA with certificates for nodes a, b and c, and a state directory.
struct cluster_setup {
  std::unique_ptr<test::kafka_broker> broker = test::kafka_broker::start_or_skip();
  test::temp_dir dir;

  explicit operator bool() const { return broker != nullptr; }

  /// Creates the slots (6) and members topics of pipeline `name`.
  void topics_for(const std::string& name) const {
    broker->create_topic(name + ".slots", 6);
    broker->create_topic(name + ".members", 1, {"cleanup.policy=compact"});
  }

  [[nodiscard]] std::string certificates() const {
    auto certs = dir.path().string() + "/certs";
    auto [status, out] =
      test::run_command(test::source_dir() + "/tools/cluster-certs " + certs + " a b c 2>&1");
    INFO(out);
    REQUIRE(status == 0);
    return certs;
  }

  /// How `run_three` runs the nodes.
  struct node_options {
    /// Create the pipeline's topics first (else the nodes create them).
    bool create_topics = true;
    /// Mutual TLS between the nodes.
    bool tls = true;
  };

  /// Runs pipeline `name` as nodes a, b and c, each building it with `build(p, node)`
  /// (node 0, 1, 2); returns each node's result.
  template <class Build>
  std::vector<caf::error> run_three(const std::string& name, const runtime_config& config,
                                    Build build, node_options options = {}) const {
    if (options.create_topics)
      topics_for(name);
    auto certs = options.tls ? certificates() : std::string{};
    std::vector<caf::error> results(3);
    std::vector<std::thread> nodes;
    for (int n = 0; n < 3; ++n)
      nodes.emplace_back([&, n] {
        std::string node(1, static_cast<char>('a' + n));
        pipeline p{name};
        build(p, n);
        // No node is lost here: the session timeout (which bounds a link's TLS handshake too)
        // leaves room for three sanitized nodes in one process on a loaded machine.
        std::vector<std::string> args{
          "node",
          "--sluice.node=" + node,
          "--sluice.brokers=" + broker->bootstrap(),
          "--sluice.min-nodes=3",
          "--sluice.session-timeout=15s",
          "--sluice.state-dir=" + dir.path().string() + "/state-" + node};
        if (options.tls) {
          args.push_back("--openssl.certificate=" + certs + "/" + node + ".pem");
          args.push_back("--openssl.key=" + certs + "/" + node + ".key");
          args.push_back("--openssl.cafile=" + certs + "/ca.pem");
        } else {
          args.emplace_back("--sluice.tls=false");
        }
        std::vector<char*> argv;
        for (auto& a : args)
          argv.push_back(a.data());
        results[n] = cluster::run_node(p, static_cast<int>(argv.size()), argv.data(), config, {});
      });
    for (auto& t : nodes)
      t.join();
    return results;
  }
};

/// Streaming (every record updates a count) with LMDB state and checkpoints every 100 ms.
runtime_config with_checkpoints(const test::temp_dir& dir) {
  auto config = test::small_batches();
  config.mode = execution_mode::streaming;
  config.state = state_backend::lmdb;
  config.state_dir = dir.path().string() + "/single";
  config.checkpoint_interval = 100ms;
  return config;
}

void require_done(const std::vector<caf::error>& results) {
  for (size_t n = 0; n < results.size(); ++n) {
    INFO("node " << static_cast<char>('a' + n) << ": " << describe(results[n]));
    CHECK_FALSE(results[n]);
  }
}

template <class T>
std::map<T, int64_t> multiset_of(const std::vector<std::vector<T>>& outs) {
  std::map<T, int64_t> result;
  for (const auto& out : outs)
    for (const auto& r : out)
      ++result[r];
  return result;
}

} // namespace

TEST_CASE("three nodes count words exactly as one process does", "[cluster][kafka-broker]") {
  cluster_setup setup;
  if (!setup)
    return;
  constexpr uint64_t events = 30'000;
  auto build = [](pipeline& p, test::changelog& out) {
    keyed_events(p, "events", events)
      .count()
      .parallelism(4)
      .name("count")
      .sink(collect(out))
      .parallelism(3);
  };
  std::vector<test::changelog> outs(3);
  auto results = setup.run_three("ccount", with_checkpoints(setup.dir),
                                 [&](pipeline& p, int n) { build(p, outs[n]); });
  require_done(results);

  std::vector<test::changelog> single(1);
  pipeline p{"ccount"};
  build(p, single[0]);
  REQUIRE_FALSE(runtime{with_checkpoints(setup.dir)}.run(p));
  auto got = multiset_of(outs);
  CHECK(got.size() == events); // each record gives its key one count
  CHECK(got == multiset_of(single));
  size_t nodes_with_output = 0;
  for (const auto& out : outs)
    nodes_with_output += out.empty() ? 0 : 1;
  CHECK(nodes_with_output >= 2); // a node runs at most 2 of the 6 slots, so of the 3 sinks

  // A node asking for other slots than the existing topic has is refused before it joins.
  std::vector<std::string> args{"node",
                                "--sluice.node=d",
                                "--sluice.brokers=" + setup.broker->bootstrap(),
                                "--sluice.tls=false",
                                "--sluice.slots=4",
                                "--sluice.state-dir=" + setup.dir.path().string() + "/state-d"};
  std::vector<char*> argv;
  for (auto& a : args)
    argv.push_back(a.data());
  std::vector<test::changelog> unused(1);
  pipeline again{"ccount"};
  build(again, unused[0]);
  auto err = cluster::run_node(again, static_cast<int>(argv.size()), argv.data(),
                               with_checkpoints(setup.dir), {});
  REQUIRE(err);
  CHECK(err.code() == static_cast<uint8_t>(errc::configuration));
  CHECK_THAT(describe(err), Catch::Contains("sluice.slots is 4")
                              && Catch::Contains("'ccount.slots' has 6 partitions"));
}

TEST_CASE("three nodes window and join exactly as one process does", "[cluster][kafka-broker]") {
  cluster_setup setup;
  if (!setup)
    return;
  constexpr uint64_t events = 20'000;
  using sums = std::vector<window_result<std::string, int64_t>>;
  using pairs = std::vector<std::tuple<std::string, int64_t, int64_t>>;
  auto build = [](pipeline& p, sums& windows, pairs& joined) {
    keyed_events(p, "events", events)
      .window(tumbling_window{100ms})
      .aggregate(sum_amounts{})
      .parallelism(5)
      .name("window")
      .sink(collect(windows));
    keyed_events(p, "orders", events / 2)
      .interval_join(keyed_events(p, "payments", events / 2, 3), -5ms, 5ms)
      .join([](const event& a, const event& b) {
        return std::tuple{a.first, a.second, b.second};
      })
      .parallelism(4)
      .name("join")
      .sink(collect(joined));
  };
  std::vector<sums> windows(3);
  std::vector<pairs> joined(3);
  auto config = test::small_batches();
  // The nodes create the pipeline's topics: as many slots as the highest parallelism (5), the
  // members topic compacted.
  auto results = setup.run_three("cwindows", config,
                                 [&](pipeline& p, int n) { build(p, windows[n], joined[n]); },
                                 {.create_topics = false});
  require_done(results);
  auto slots = setup.broker->describe_topic("cwindows.slots");
  CHECK_THAT(slots, Catch::Contains("PartitionCount: 5"));
  CHECK_THAT(setup.broker->describe_topic("cwindows.members"),
             Catch::Contains("PartitionCount: 1") && Catch::Contains("cleanup.policy=compact"));

  std::vector<sums> single_windows(1);
  std::vector<pairs> single_joined(1);
  pipeline p{"cwindows"};
  build(p, single_windows[0], single_joined[0]);
  REQUIRE_FALSE(runtime{config}.run(p));
  std::map<std::tuple<std::string, timestamp, int64_t>, int64_t> got, expected;
  for (const auto& out : windows)
    for (const auto& r : out)
      ++got[{r.key, r.window.start, r.value}];
  for (const auto& r : single_windows[0])
    ++expected[{r.key, r.window.start, r.value}];
  CHECK(got.size() == expected.size());
  CHECK(got == expected);
  CHECK_FALSE(single_joined[0].empty());
  CHECK(multiset_of(joined) == multiset_of(single_joined));
}

TEST_CASE("three nodes count a Kafka topic into a Kafka topic exactly once",
          "[cluster][kafka-broker]") {
  cluster_setup setup;
  if (!setup)
    return;
  setup.broker->create_topic("ckwords", 3);
  setup.broker->create_topic("ckcounts", 2);
  std::map<std::string, int64_t> expected;
  {
    test::kafka_producer producer{setup.broker->bootstrap()};
    for (int i = 0; i < 30'000; ++i) {
      auto word = test::key_of(static_cast<uint64_t>(i) * 7919);
      ++expected[word];
      producer.produce("ckwords", i % 3, word, 1'700'000'000'000 + i);
    }
    producer.flush();
  }
  auto config = with_checkpoints(setup.dir);
  auto results = setup.run_three("ckafka", config, [&](pipeline& p, int) {
    kafka_source_options in;
    in.topic = "ckwords";
    in.properties = {{"bootstrap.servers", setup.broker->bootstrap()}, {"group.id", "ckafka"}};
    in.bounded = true;
    kafka_sink_options out;
    out.topic = "ckcounts";
    out.properties = {{"bootstrap.servers", setup.broker->bootstrap()}};
    out.delivery = kafka_delivery::exactly_once;
    p.source(kafka_source(in))
      .parallelism(3)
      .name("words")
      .key_by([](const std::string& w) { return w; })
      .count()
      .parallelism(4)
      .name("count")
      .sink(kafka_sink(out, string_serde{}, json_serde<int64_t>{}))
      .parallelism(4)
      .name("counts");
  });
  require_done(results);

  // A read_committed consumer sees every word's counts 1..n, each once, in order.
  test::check_counts_once(setup.broker->bootstrap(), "ckcounts", 2, expected);
}

TEST_CASE("records cross between nodes encrypted: a loopback capture finds none in clear",
          "[cluster][kafka-broker]") {
  cluster_setup setup;
  if (!setup)
    return;
  const std::string marker = "sluice-cleartext-marker";
  auto capture = test::loopback_capture::start_or_skip(marker);
  if (!capture)
    return;
  // Words that carry the marker, counted at three nodes: every word and every count crosses
  // between nodes unless its key's count runs where the word was generated.
  auto run = [&](const std::string& name, bool tls) {
    std::vector<test::changelog> outs(3);
    capture->reset();
    auto results = setup.run_three(
      name, test::small_batches(),
      [&](pipeline& p, int n) {
        p.source(generate<std::string>(
                   [&marker](uint64_t i) { return marker + "-" + std::to_string(i % 100); },
                   {.count = 3000}))
          .parallelism(3)
          .key_by([](const std::string& w) { return w; })
          .count()
          .parallelism(3)
          .sink(collect(outs[n]))
          .parallelism(3);
      },
      {.tls = tls});
    require_done(results);
    size_t counts = 0;
    for (const auto& out : outs)
      counts += out.size();
    CHECK(counts == 100); // batch mode: one final count per word
  };
  run("cclear", false);
  INFO(capture->packets() << " packets captured, " << capture->dropped() << " dropped");
  CHECK(capture->marked_packets() > 0); // without TLS the capture sees the words
  run("csealed", true);
  INFO(capture->packets() << " packets captured, " << capture->dropped() << " dropped");
  CHECK(capture->packets() > 0);
  CHECK(capture->dropped() == 0);
  CHECK(capture->marked_packets() == 0);
}

TEST_CASE("a node refuses wrong settings before it joins anything", "[cluster]") {
  pipeline p{"refused"};
  std::vector<int64_t> out;
  p.source(generate<int64_t>([](uint64_t i) { return static_cast<int64_t>(i); }, {.count = 10}))
    .sink(collect(out));
  std::vector<std::string> args{"node", "--sluice.brokers=127.0.0.1:9", "--sluice.tls=false"};
  std::vector<char*> argv;
  for (auto& a : args)
    argv.push_back(a.data());
  auto err = cluster::run_node(p, static_cast<int>(argv.size()), argv.data(), {}, {});
  REQUIRE(err);
  CHECK_THAT(describe(err), Catch::Contains("sluice.node") && Catch::Contains("SLUICE_NODE"));

  pipeline unnamed{"dead letters"};
  std::vector<dead_letter> letters;
  unnamed
    .source(generate<int64_t>([](uint64_t i) { return static_cast<int64_t>(i); }, {.count = 10}))
    .map([](int64_t i) { return i; })
    .on_failure(failure_policy::skip)
    .sink(collect(out));
  unnamed.dead_letters().sink(collect(letters));
  args.push_back("--sluice.node=a");
  argv.clear();
  for (auto& a : args)
    argv.push_back(a.data());
  err = cluster::run_node(unnamed, static_cast<int>(argv.size()), argv.data(), {}, {});
  REQUIRE(err);
  CHECK_THAT(describe(err), Catch::Contains("dead letters"));
}
