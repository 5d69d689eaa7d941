// kafka_source (real broker) -> slow map -> kafka_sink | collect, under broker faults

// Against a real Apache Kafka broker (tools/kafka-broker): backpressure from a slow stage keeps
// the lag in Kafka, a broker stopped and started again in mid-run loses nothing, and an
// unreachable broker or a missing topic fails the run in bounded time naming the topic and the
// brokers. The cases that need a broker report themselves skipped, loudly, when its
// prerequisites (Java 17+, Maven for the first fetch) are missing.

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <numeric>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "sluice/operators/kafka_sink.hpp"
#include "sluice/operators/kafka_source.hpp"

#include "support/kafka_support.hpp"
#include "support/test_support.hpp"

using namespace sluice;
using namespace std::chrono_literals;

namespace {

/// Fills `partitions` partitions of `topic` with `count` values "<prefix>-<i>" (padded with
/// `padding` dots), round robin, stamped with the time now.
std::vector<std::string> fill(const test::kafka_broker& broker, const std::string& topic,
                              int partitions, int count, const std::string& prefix,
                              size_t padding = 0) {
  std::vector<std::string> values;
  values.reserve(static_cast<size_t>(count));
  auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
               .count();
  test::kafka_producer producer{broker.bootstrap()};
  for (int i = 0; i < count; ++i) {
    values.push_back(prefix + "-" + std::to_string(i) + std::string(padding, '.'));
    producer.produce(topic, i % partitions, values.back(), now + i);
  }
  producer.flush();
  return values;
}

/// A map step that takes about 1 ms per `per_ms` records: a stage slower than Kafka.
auto slowly(int per_ms) {
  return [per_ms, n = 0](std::string value) mutable {
    if (++n % per_ms == 0)
      std::this_thread::sleep_for(1ms);
    return value;
  };
}

/// The stats of instance 0 of operator `name` in `stats` (zeros when it is not live).
instance_stats of(const std::vector<instance_stats>& stats, const std::string& name) {
  for (const auto& s : stats)
    if (s.operator_name == name && s.instance == 0)
      return s;
  return {};
}

/// Everything in `topic` now, read by a bounded source.
std::vector<std::string> read_all(const std::string& bootstrap, const std::string& topic) {
  kafka_source_options options;
  options.topic = topic;
  options.properties = {{"bootstrap.servers", bootstrap}, {"group.id", "checker"}};
  options.bounded = true;
  pipeline p{"check"};
  std::vector<std::string> out;
  p.source(kafka_source(options)).sink(collect(out));
  runtime rt;
  auto error = rt.run(p);
  INFO(describe(error));
  REQUIRE_FALSE(error);
  return out;
}

/// The error of running `p` to its end, and how long that took.
std::pair<std::string, std::chrono::milliseconds> run_failing(pipeline& p) {
  runtime rt;
  auto started = std::chrono::steady_clock::now();
  auto error = rt.run(p);
  auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now()
                                                                    - started);
  REQUIRE(error);
  return {describe(error), took};
}

} // namespace

TEST_CASE("a slow stage holds a Kafka source back so the lag stays in the broker") {
  auto broker = test::kafka_broker::start_or_skip();
  if (!broker)
    return;
  constexpr int records = 200'000;
  broker->create_topic("backlog", 2);
  fill(*broker, "backlog", 2, records, "r", 64);

  test::temp_dir state;
  auto config = test::recovery_config(state);
  kafka_source_options options;
  options.topic = "backlog";
  options.properties = {{"bootstrap.servers", broker->bootstrap()}, {"group.id", "laggard"}};
  pipeline p{"backlog"};
  std::vector<std::string> out;
  p.source(kafka_source(options))
    .name("source")
    .map(slowly(16))
    .name("slow")
    .sink(collect(out))
    .name("sink");
  runtime rt{config};
  auto job = rt.start(p);
  REQUIRE(job);

  // Sample while the slow stage works through 5'000 records: how far the source
  // ever ran ahead of it. Instances are sampled one after the other, the source first, so its
  // count is the older one and the difference can only underestimate what was in flight.
  int64_t ahead = 0;
  uint64_t samples = 0;
  uint64_t read = 0;
  uint64_t processed = 0;
  auto started = std::chrono::steady_clock::now();
  bool enough = test::eventually(
    [&] {
      auto stats = job->inspect();
      auto source = of(stats, "source");
      auto slow = of(stats, "slow");
      ahead = std::max(
        ahead, static_cast<int64_t>(source.records_in) - static_cast<int64_t>(slow.records_in));
      ++samples;
      read = source.records_in;
      processed = slow.records_in;
      return slow.records_in >= 5'000;
    },
    60s);
  INFO("after " << std::chrono::duration_cast<std::chrono::milliseconds>(
                     std::chrono::steady_clock::now() - started)
                     .count()
                << " ms the source read " << read << " and the slow stage took " << processed);
  REQUIRE(enough);
  // A checkpoint completed since: its offsets are committed, where lag monitoring sees them.
  auto taken = of(job->inspect(), "sink").checkpoint_completed;
  REQUIRE(test::wait_for_checkpoint(*job, taken + 2));
  std::vector<int64_t> committed;
  REQUIRE(test::eventually(
    [&] {
      committed = test::committed_offsets(broker->bootstrap(), "laggard", "backlog", 2);
      return committed[0] >= 0 && committed[1] >= 0;
    },
    10s));
  auto stats = job->inspect();
  REQUIRE_FALSE(job->wait_for(0ms).has_value()); // still running, not failed
  job->cancel();
  (void)job->wait();

  INFO("samples " << samples << ", source ahead by at most " << ahead);
  // What the source emitted and the slow stage did not take sits in bounded buffers: the slow
  // stage's input credit and less than two batches per sending instance.
  CHECK(ahead <= static_cast<int64_t>(config.input_buffer_limit + 4 * config.batch_size));
  for (const auto& s : stats) {
    INFO(s.operator_name);
    CHECK(s.peak_queued_per_channel <= static_cast<uint64_t>(s.input_credit_limit));
    for (auto c : s.output_credit)
      CHECK(c <= static_cast<int64_t>(config.input_buffer_limit));
  }
  auto source = of(stats, "source");
  auto slow = of(stats, "slow");
  CHECK(source.records_in <= slow.records_in + config.input_buffer_limit + 4 * config.batch_size);
  // The source spent its time waiting for credit, not reading.
  CHECK(source.backpressured_ns > source.busy_ns);
  // The group's committed offsets trail the topic's end by most of the topic: the backlog is
  // in Kafka, for lag monitoring to see, not in this process.
  auto consumed = committed[0] + committed[1];
  INFO("committed " << committed[0] << " + " << committed[1]);
  CHECK(consumed <= static_cast<int64_t>(source.records_in));
  CHECK(records - consumed >= records / 2);
}

TEST_CASE("a Kafka pipeline rides out a broker restart and loses no record") {
  auto broker = test::kafka_broker::start_or_skip();
  if (!broker)
    return;
  constexpr int records = 20'000;
  broker->create_topic("in", 2);
  broker->create_topic("out", 2);
  auto expected = fill(*broker, "in", 2, records, "m");
  std::sort(expected.begin(), expected.end());

  test::temp_dir state;
  auto config = test::recovery_config(state);
  kafka_source_options in;
  in.topic = "in";
  in.properties = {{"bootstrap.servers", broker->bootstrap()}, {"group.id", "relay"}};
  kafka_sink_options out;
  out.topic = "out";
  out.properties = {{"bootstrap.servers", broker->bootstrap()}};
  pipeline p{"relay"};
  p.source(kafka_source(in))
    .name("source")
    .map(slowly(4))
    .name("slow")
    .sink(kafka_sink(out))
    .name("sink");
  runtime rt{config};
  auto job = rt.start(p);
  REQUIRE(job);

  // Mid-stream: a few checkpoints done, a quarter of the records through, not all of them.
  REQUIRE(test::eventually([&] { return of(job->inspect(), "sink").records_in >= records / 4; }));
  REQUIRE(test::wait_for_checkpoint(*job, 2));
  auto before = job->inspect();
  REQUIRE(of(before, "source").records_in < static_cast<uint64_t>(records));
  broker->stop();
  auto stopped = std::chrono::steady_clock::now();
  // The outage lasts three seconds of checkpoints, fetches and sends against a broker that is
  // gone; the job must not fail meanwhile.
  auto failed_during_outage = job->wait_for(3s);
  REQUIRE_FALSE(failed_during_outage.has_value());
  broker->restart();
  auto outage = std::chrono::steady_clock::now() - stopped;

  // Every record is through once the group's committed offsets reach the end of the input: the
  // checkpoint that committed them came after the last record, and the sink flushed everything
  // before it.
  std::vector<int64_t> committed;
  bool through = test::eventually(
    [&] {
      if (job->wait_for(0ms).has_value())
        return true; // the job ended: fail below, with its error
      committed = test::committed_offsets(broker->bootstrap(), "relay", "in", 2);
      return committed == std::vector<int64_t>{records / 2, records / 2};
    },
    90s);
  auto ended = job->wait_for(0ms);
  if (ended)
    FAIL("the job ended: " << describe(*ended));
  REQUIRE(through);
  auto after = job->inspect();
  job->cancel();
  (void)job->wait();

  uint64_t restarts = 0;
  std::string failures;
  for (const auto& s : after) {
    restarts += s.restarts;
    if (!s.last_failure.empty())
      failures += " " + s.operator_name + ": " + s.last_failure;
  }
  auto written = read_all(broker->bootstrap(), "out");
  std::set<std::string> distinct(written.begin(), written.end());
  INFO("outage " << std::chrono::duration_cast<std::chrono::milliseconds>(outage).count()
                 << " ms, restarts " << restarts << failures << ", written " << written.size());
  CHECK(distinct.size() == expected.size());
  CHECK(std::includes(distinct.begin(), distinct.end(), expected.begin(), expected.end()) == true);
  CHECK(written.size() >= expected.size());
  // Source and sink ride the outage out: librdkafka reconnects, and no instance fails.
  CHECK(restarts == 0);
}

TEST_CASE("Kafka source and sink fail in bounded time naming the topic when no broker answers") {
  auto brokers = "127.0.0.1:" + std::to_string(test::closed_port());
  const auto timeout = 2s;
  SECTION("source") {
    kafka_source_options options;
    options.topic = "nowhere";
    options.properties = {{"bootstrap.servers", brokers}, {"group.id", "g"}};
    options.timeout = timeout;
    pipeline p{"unreachable-source"};
    std::vector<std::string> out;
    p.source(kafka_source(options)).sink(collect(out));
    auto [error, took] = run_failing(p);
    INFO(error << " after " << took.count() << " ms");
    CHECK_THAT(error, Catch::Contains("Kafka topic 'nowhere' on " + brokers));
    CHECK_THAT(error, Catch::Contains("no metadata within 2000 ms"));
    CHECK(took >= timeout);
    CHECK(took < 2 * timeout);
  }
  SECTION("sink") {
    kafka_sink_options options;
    options.topic = "nowhere";
    options.properties = {{"bootstrap.servers", brokers}};
    options.timeout = timeout;
    pipeline p{"unreachable-sink"};
    p.source(from_collection(std::vector<std::string>{"a", "b", "c"})).sink(kafka_sink(options));
    auto [error, took] = run_failing(p);
    INFO(error << " after " << took.count() << " ms");
    CHECK_THAT(error, Catch::Contains("Kafka topic 'nowhere' on " + brokers));
    CHECK_THAT(error, Catch::Contains("no metadata within 2000 ms"));
    CHECK(took < 2 * timeout);
  }
}

TEST_CASE("Kafka source and sink fail in bounded time naming a topic the broker does not have") {
  auto broker = test::kafka_broker::start_or_skip();
  if (!broker)
    return;
  const auto timeout = 3s;
  const auto where = "Kafka topic 'missing' on " + broker->bootstrap();
  {
    INFO("source");
    kafka_source_options options;
    options.topic = "missing";
    options.properties = {{"bootstrap.servers", broker->bootstrap()}, {"group.id", "g"}};
    options.timeout = timeout;
    pipeline p{"missing-source"};
    std::vector<std::string> out;
    p.source(kafka_source(options)).sink(collect(out));
    auto [error, took] = run_failing(p);
    INFO(error << " after " << took.count() << " ms");
    CHECK_THAT(error, Catch::Contains(where));
    CHECK_THAT(error, Catch::Contains("the topic is not there"));
    CHECK(took < 2 * timeout);
  }
  {
    INFO("sink");
    kafka_sink_options options;
    options.topic = "missing";
    options.properties = {{"bootstrap.servers", broker->bootstrap()}};
    options.timeout = timeout;
    pipeline p{"missing-sink"};
    p.source(from_collection(std::vector<std::string>{"a", "b", "c"})).sink(kafka_sink(options));
    auto [error, took] = run_failing(p);
    INFO(error << " after " << took.count() << " ms");
    CHECK_THAT(error, Catch::Contains(where));
    CHECK_THAT(error, Catch::Contains("the topic is not there"));
    CHECK(took < timeout);
  }
}
