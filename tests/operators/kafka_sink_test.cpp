// kafka_sink on librdkafka's mock cluster: what it writes reads back exactly (text and JSON) at
// several parallelisms, and undeliverable messages fail the run naming topic and partition

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "sluice/operators/kafka_sink.hpp"
#include "sluice/operators/kafka_source.hpp"

#include "support/kafka_support.hpp"
#include "support/test_support.hpp"

using namespace sluice;

namespace {

kafka_sink_options writing(const std::string& bootstrap, const std::string& topic) {
  kafka_sink_options options;
  options.topic = topic;
  options.properties = {{"bootstrap.servers", bootstrap}};
  return options;
}

/// Everything in `topic`, decoded by `serde`.
template <class Serde>
std::vector<typename Serde::value_type> read_all(const std::string& bootstrap,
                                                 const std::string& topic, Serde serde) {
  kafka_source_options options;
  options.topic = topic;
  options.properties = {{"bootstrap.servers", bootstrap}, {"group.id", "checker"}};
  options.bounded = true;
  pipeline p{"check"};
  std::vector<typename Serde::value_type> out;
  p.source(kafka_source(options, serde)).sink(collect(out));
  runtime rt;
  REQUIRE_FALSE(rt.run(p));
  return out;
}

} // namespace

TEST_CASE("a Kafka sink writes every record once whatever the parallelism") {
  test::kafka_mock kafka;
  std::vector<std::string> items;
  for (int i = 0; i < 2000; ++i)
    items.push_back("item-" + std::to_string(i));
  auto expected = items;
  std::sort(expected.begin(), expected.end());
  for (uint32_t parallelism : {1u, 3u}) {
    INFO("parallelism " << parallelism);
    auto topic = "out-" + std::to_string(parallelism);
    kafka.create_topic(topic, 2);
    pipeline p{"write"};
    p.source(from_collection(items))
      .sink(kafka_sink(writing(kafka.bootstrap(), topic)))
      .parallelism(parallelism);
    runtime rt{test::small_batches()};
    REQUIRE_FALSE(rt.run(p));
    auto written = read_all(kafka.bootstrap(), topic, string_serde{});
    std::sort(written.begin(), written.end());
    CHECK(written == expected);
  }
}

TEST_CASE("a Kafka sink writes JSON that reads back as the same values") {
  test::kafka_mock kafka;
  kafka.create_topic("json", 1);
  std::vector<boost::json::value> values;
  for (int i = 0; i < 100; ++i)
    values.push_back(boost::json::object{{"n", i}, {"name", "v" + std::to_string(i)}});
  pipeline p{"json"};
  p.source(from_collection(values))
    .sink(kafka_sink(writing(kafka.bootstrap(), "json"), json_serde<>{}));
  runtime rt;
  REQUIRE_FALSE(rt.run(p));
  CHECK(read_all(kafka.bootstrap(), "json", json_serde<>{}) == values);
}

TEST_CASE("a Kafka sink whose brokers do not answer fails naming the topic") {
  auto options = writing("127.0.0.1:1", "lost");
  options.properties["message.timeout.ms"] = "500";
  options.timeout = std::chrono::seconds(5);
  pipeline p{"lost"};
  p.source(from_collection(std::vector<std::string>{"a", "b", "c"})).sink(kafka_sink(options));
  runtime rt;
  auto started = std::chrono::steady_clock::now();
  auto info = info_of(rt.run(p));
  CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(30));
  REQUIRE(info);
  CHECK(info->code == errc::kafka);
  CHECK(info->subject == "lost");
  REQUIRE(info->instance);
  CHECK_THAT(info->message, Catch::Contains("Kafka topic 'lost' on 127.0.0.1:1")
                              && Catch::Contains("no metadata within 5000 ms"));
}

TEST_CASE(
  "a Kafka sink fails naming topic, partition and error when the broker refuses a message") {
  test::kafka_mock kafka;
  kafka.create_topic("refused", 1);
  // Permanent, so the producer does not retry it away: every produce request the sink makes.
  kafka.fail_produce_requests(RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED, 1000);
  pipeline p{"refused"};
  p.source(from_collection(std::vector<std::string>{"a", "b", "c"}))
    .sink(kafka_sink(writing(kafka.bootstrap(), "refused")));
  runtime rt;
  auto error = describe(rt.run(p));
  CHECK_THAT(error, Catch::Contains("Kafka topic 'refused' on " + kafka.bootstrap()));
  CHECK_THAT(error, Catch::Contains("partition 0: a message was not delivered"));
  CHECK_THAT(error, Catch::Contains("Topic authorization failed"));
}

TEST_CASE("a Kafka sink fails naming an event time Kafka cannot hold, before writing it") {
  for (auto [time, named] : {std::pair{timestamp{-5}, std::string{"event time -5"}},
                             std::pair{max_timestamp, std::string{"event time max_timestamp"}}}) {
    test::kafka_mock kafka;
    kafka.create_topic("times", 1);
    pipeline p{"times"};
    p.source(from_collection(std::vector<std::string>{"a", "b"},
                             [time](const std::string& s) { return s == "b" ? time : 7; }))
      .sink(kafka_sink(writing(kafka.bootstrap(), "times")));
    runtime rt;
    auto info = info_of(rt.run(p));
    REQUIRE(info);
    CHECK(info->code == errc::kafka);
    CHECK(info->subject == "times");
    CHECK_THAT(info->message, Catch::Contains("Kafka topic 'times': a record's " + named)
                                && Catch::Contains("cannot be a Kafka timestamp"));
  }
}

TEST_CASE("a Kafka sink with a key serde writes keys that a keyed source reads back") {
  test::kafka_mock kafka;
  kafka.create_topic("keyed", 3);
  std::vector<std::pair<std::string, int64_t>> items;
  for (int i = 0; i < 300; ++i)
    items.emplace_back("k" + std::to_string(i % 7), i);
  pipeline p{"keyed"};
  p.source(from_collection(items))
    .sink(kafka_sink(writing(kafka.bootstrap(), "keyed"), string_serde{}, json_serde<int64_t>{}))
    .parallelism(2);
  runtime rt;
  REQUIRE_FALSE(rt.run(p));

  kafka_source_options options;
  options.topic = "keyed";
  options.properties = {{"bootstrap.servers", kafka.bootstrap()}, {"group.id", "checker"}};
  options.bounded = true;
  pipeline check{"check"};
  std::vector<std::pair<std::string, int64_t>> out;
  check.source(kafka_source(options, string_serde{}, json_serde<int64_t>{})).sink(collect(out));
  REQUIRE_FALSE(rt.run(check));
  std::sort(out.begin(), out.end());
  std::sort(items.begin(), items.end());
  CHECK(out == items);
  // A key's messages all go to one partition.
  std::map<std::string, std::set<int32_t>> partitions;
  for (const auto& m : test::read_topic(kafka.bootstrap(), "keyed", 3))
    partitions[m.key].insert(m.partition);
  CHECK(partitions.size() == 7);
  for (const auto& [key, in] : partitions)
    CHECK(in.size() == 1);
}

TEST_CASE("an exactly-once Kafka sink writes every record once in transactions") {
  test::kafka_mock kafka;
  std::vector<std::string> items;
  for (int i = 0; i < 3000; ++i)
    items.push_back("item-" + std::to_string(i));
  auto expected = items;
  std::sort(expected.begin(), expected.end());
  for (uint32_t parallelism : {1u, 3u}) {
    INFO("parallelism " << parallelism);
    auto topic = "txn-" + std::to_string(parallelism);
    kafka.create_topic(topic, 2);
    auto options = writing(kafka.bootstrap(), topic);
    options.delivery = kafka_delivery::exactly_once;
    test::temp_dir state;
    pipeline p{"txn"};
    p.source(from_collection(items)).sink(kafka_sink(options)).parallelism(parallelism);
    runtime rt{test::recovery_config(state)};
    REQUIRE_FALSE(rt.run(p));
    auto written = read_all(kafka.bootstrap(), topic, string_serde{});
    std::sort(written.begin(), written.end());
    CHECK(written == expected);
  }
}

TEST_CASE("an exactly-once Kafka sink names what is wrong with its set-up") {
  test::kafka_mock kafka;
  kafka.create_topic("txn", 1);
  auto options = writing(kafka.bootstrap(), "txn");
  options.delivery = kafka_delivery::exactly_once;
  auto run_error = [&](const runtime_config& config) {
    pipeline p{"txn"};
    p.source(from_collection(std::vector<std::string>{"a"})).sink(kafka_sink(options));
    runtime rt{config};
    auto error = rt.run(p);
    REQUIRE(error);
    return describe(error);
  };
  SECTION("no checkpoints") {
    CHECK_THAT(run_error(runtime_config{}),
               Catch::Contains("Kafka topic 'txn': exactly-once delivery needs checkpoints"));
  }
  SECTION("a transaction timeout shorter than the sink's timeout") {
    options.properties["transaction.timeout.ms"] = "1000";
    test::temp_dir state;
    CHECK_THAT(run_error(test::recovery_config(state)),
               Catch::Contains("transaction.timeout.ms=1000 is shorter than the sink's timeout"));
  }
  SECTION("brokers that do not answer") {
    options.properties["bootstrap.servers"] = "127.0.0.1:1";
    options.timeout = std::chrono::seconds(2);
    test::temp_dir state;
    auto started = std::chrono::steady_clock::now();
    auto error = run_error(test::recovery_config(state));
    CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(30));
    CHECK_THAT(error, Catch::Contains("Kafka topic 'txn' on 127.0.0.1:1 (transactional id 'txn-"));
    CHECK_THAT(error, Catch::Contains("no metadata within 2000 ms"));
  }
}
