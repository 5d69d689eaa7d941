// kafka_source on librdkafka's mock cluster: a bounded read at several parallelisms, Kafka
// timestamps as event time, a broker that goes down and comes back, and clear errors for a
// missing topic, unreachable brokers, a bad property and a value that does not decode

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "sluice/operators/kafka_sink.hpp"
#include "sluice/operators/kafka_source.hpp"

#include "support/kafka_support.hpp"
#include "support/test_support.hpp"

using namespace sluice;

namespace {

/// Every record that reached the sink, with its event time.
struct timed_values {
  std::mutex mutex;
  std::vector<std::pair<std::string, timestamp>> seen;
};

struct timed_sink {
  using input_type = std::string;
  using output_type = no_output;

  std::shared_ptr<timed_values> out;

  void on_batch(std::vector<record<std::string>>& records, context<no_output>&) {
    std::lock_guard<std::mutex> guard{out->mutex};
    for (auto& r : records)
      out->seen.emplace_back(std::move(r.value), r.time);
  }
};

kafka_source_options reading(const std::string& bootstrap, const std::string& topic) {
  kafka_source_options options;
  options.topic = topic;
  options.properties = {{"bootstrap.servers", bootstrap}, {"group.id", "test"}};
  options.bounded = true;
  options.timeout = std::chrono::seconds(5);
  return options;
}

/// The error text of running a one-source pipeline that reads with `options`.
std::string run_error(kafka_source_options options) {
  pipeline p{"kafka"};
  std::vector<std::string> out;
  p.source(kafka_source(std::move(options))).sink(collect(out));
  runtime rt;
  auto error = rt.run(p);
  REQUIRE(error);
  return describe(error);
}

} // namespace

TEST_CASE("a bounded Kafka source reads every message once whatever the parallelism") {
  test::kafka_mock kafka;
  kafka.create_topic("events", 3);
  std::vector<std::pair<std::string, timestamp>> expected;
  for (int i = 0; i < 300; ++i) {
    auto partition = i % 3;
    timestamp time = 1'000'000 + i;
    auto value = "p" + std::to_string(partition) + "-" + std::to_string(i);
    kafka.producer().produce("events", partition, value, time);
    expected.emplace_back(value, time);
  }
  kafka.producer().flush();
  std::sort(expected.begin(), expected.end());
  for (uint32_t parallelism : {1u, 2u, 3u, 4u}) {
    INFO("parallelism " << parallelism);
    auto out = std::make_shared<timed_values>();
    pipeline p{"read"};
    p.source(kafka_source(reading(kafka.bootstrap(), "events")))
      .parallelism(parallelism)
      .sink(timed_sink{out});
    runtime rt{test::small_batches()};
    REQUIRE_FALSE(rt.run(p));
    std::sort(out->seen.begin(), out->seen.end());
    CHECK(out->seen == expected);
  }
}

TEST_CASE("a checkpointed Kafka source commits its offsets to the group") {
  test::kafka_mock kafka;
  kafka.create_topic("counted", 2);
  for (int i = 0; i < 50; ++i)
    kafka.producer().produce("counted", i % 2, std::to_string(i), 1'000 + i);
  kafka.producer().flush();
  test::temp_dir dir;
  auto config = test::recovery_config(dir);
  pipeline p{"commit"};
  std::vector<std::string> out;
  p.source(kafka_source(reading(kafka.bootstrap(), "counted"))).parallelism(2).sink(collect(out));
  runtime rt{config};
  REQUIRE_FALSE(rt.run(p));
  CHECK(out.size() == 50);
  // The job's last checkpoint is taken at the end of the topic: 25 messages per partition.
  CHECK(test::committed_offsets(kafka.bootstrap(), "test", "counted", 2)
        == std::vector<int64_t>{25, 25});
}

TEST_CASE("a bounded Kafka source over an empty topic ends at once") {
  test::kafka_mock kafka;
  kafka.create_topic("empty", 2);
  pipeline p{"empty"};
  std::vector<std::string> out;
  p.source(kafka_source(reading(kafka.bootstrap(), "empty"))).parallelism(2).sink(collect(out));
  runtime rt;
  REQUIRE_FALSE(rt.run(p));
  CHECK(out.empty());
}

TEST_CASE("a Kafka source rides out a broker that goes down and reads on when it is back") {
  test::kafka_mock kafka;
  kafka.create_topic("flaky", 1);
  auto produce = [&](int from, int to) {
    for (int i = from; i < to; ++i)
      kafka.producer().produce("flaky", 0, std::to_string(i), 1'000 + i);
    kafka.producer().flush();
  };
  produce(0, 100);
  auto options = reading(kafka.bootstrap(), "flaky");
  options.bounded = false;
  auto out = std::make_shared<timed_values>();
  pipeline p{"flaky"};
  p.source(kafka_source(options)).name("source").sink(timed_sink{out});
  runtime rt;
  auto job = rt.start(p);
  REQUIRE(job);
  auto seen = [&] {
    std::lock_guard<std::mutex> guard{out->mutex};
    return out->seen.size();
  };
  REQUIRE(test::eventually([&] { return seen() == 100; }));
  // Down long enough for librdkafka to report the lost connection and every broker down.
  kafka.set_broker_up(false);
  auto failed_while_down = job->wait_for(std::chrono::seconds(3));
  kafka.set_broker_up(true);
  INFO((failed_while_down ? describe(*failed_while_down) : "still running"));
  REQUIRE_FALSE(failed_while_down);
  // Then fetches answered with errors that pass: a leader moving, a request timing out.
  kafka.fail_fetch_requests(RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION, 3);
  kafka.fail_fetch_requests(RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT, 3);
  produce(100, 200);
  CHECK(test::eventually([&] { return seen() == 200; }));
  if (auto ended = job->wait_for(std::chrono::milliseconds(0)))
    FAIL("the job ended: " << describe(*ended));
  for (const auto& s : job->inspect())
    CHECK(s.restarts == 0);
  job->cancel();
  (void)job->wait();
  std::lock_guard<std::mutex> guard{out->mutex};
  std::vector<std::string> values;
  for (const auto& [value, time] : out->seen)
    values.push_back(value);
  std::vector<std::string> expected;
  for (int i = 0; i < 200; ++i)
    expected.push_back(std::to_string(i));
  CHECK(values == expected);
}

TEST_CASE("Kafka source errors name the topic and what was wrong") {
  test::kafka_mock kafka;
  kafka.create_topic("json", 1);
  SECTION("a topic that is not there") {
    auto error = run_error(reading(kafka.bootstrap(), "nope"));
    CHECK_THAT(error, Catch::Contains("Kafka topic 'nope'"));
    CHECK_THAT(error, Catch::Contains("the topic is not there"));
  }
  SECTION("brokers that do not answer, within the timeout") {
    auto options = reading("127.0.0.1:1", "json");
    options.timeout = std::chrono::seconds(1);
    auto started = std::chrono::steady_clock::now();
    auto error = run_error(options);
    CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(30));
    CHECK_THAT(error, Catch::Contains("Kafka topic 'json' on 127.0.0.1:1"));
    CHECK_THAT(error, Catch::Contains("no metadata within 1000 ms"));
  }
  SECTION("a property librdkafka does not know") {
    auto options = reading(kafka.bootstrap(), "json");
    options.properties["fetch.wait.forever"] = "1";
    CHECK_THAT(run_error(options), Catch::Contains("property fetch.wait.forever=1"));
  }
  SECTION("no group.id") {
    auto options = reading(kafka.bootstrap(), "json");
    options.properties.erase("group.id");
    CHECK_THAT(run_error(options), Catch::Contains("no group.id given"));
  }
  SECTION("a value that is not JSON, with its partition and offset") {
    kafka.producer().produce("json", 0, R"({"n": 1})", 1);
    kafka.producer().produce("json", 0, R"({"n": 2})", 2);
    kafka.producer().produce("json", 0, R"({"n": 3)", 3);
    kafka.producer().flush();
    pipeline p{"json"};
    std::vector<boost::json::value> out;
    p.source(kafka_source(reading(kafka.bootstrap(), "json"), json_serde<>{})).sink(collect(out));
    runtime rt;
    auto error = describe(rt.run(p));
    CHECK_THAT(error, Catch::Contains("Kafka topic 'json' partition 0 offset 2"));
    CHECK_THAT(error, Catch::Contains("malformed JSON at byte 7"));
  }
}

TEST_CASE("a Kafka source under skip sends undecodable messages to a dead-letter topic") {
  // topic json --kafka_source(skip)--> collect;  dead letters --kafka_sink(JSON)--> topic dlq
  test::kafka_mock kafka;
  kafka.create_topic("json", 2);
  kafka.create_topic("dlq", 1);
  std::vector<boost::json::value> expected;
  for (int i = 0; i < 200; ++i) {
    if (i == 77) {
      kafka.producer().produce("json", 1, "{\"n\": 77", 5);
      continue;
    }
    boost::json::value v = boost::json::object{{"n", i}};
    kafka.producer().produce("json", i % 2, boost::json::serialize(v), 5);
    expected.push_back(v);
  }
  kafka.producer().flush();
  for (bool checkpointed : {false, true}) {
    INFO("checkpoints " << checkpointed);
    test::temp_dir state;
    auto config = checkpointed ? test::recovery_config(state) : test::small_batches();
    kafka_sink_options dlq;
    dlq.topic = "dlq";
    dlq.properties = {{"bootstrap.servers", kafka.bootstrap()}};
    pipeline p{"decode"};
    std::vector<boost::json::value> out;
    p.source(kafka_source(reading(kafka.bootstrap(), "json"), json_serde<>{}))
      .name("orders")
      .parallelism(2)
      .on_failure(failure_policy::skip)
      .sink(collect(out));
    p.dead_letters().sink(kafka_sink(dlq, json_serde<dead_letter>{}));
    runtime rt{config};
    auto error = rt.run(p);
    INFO(describe(error));
    REQUIRE_FALSE(error);
    auto by_n = [](const auto& a, const auto& b) {
      return a.at("n").as_int64() < b.at("n").as_int64();
    };
    std::sort(out.begin(), out.end(), by_n);
    CHECK(out == expected);
  }
  // One letter per run, with the raw bytes and where they were.
  auto letters = test::read_topic(kafka.bootstrap(), "dlq", 1);
  REQUIRE(letters.size() == 2);
  for (const auto& m : letters) {
    auto letter = json_serde<dead_letter>{}.decode(m.value);
    CHECK(letter.pipeline == "decode");
    CHECK(letter.operator_name == "orders");
    CHECK(letter.instance == 1);
    CHECK(letter.payload == "{\"n\": 77");
    CHECK(letter.time == 5);
    CHECK_THAT(letter.error, Catch::Contains("Kafka topic 'json' partition 1 offset 38 value: "
                                             "malformed JSON"));
  }
}
