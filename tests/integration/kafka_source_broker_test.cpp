// kafka_source against a real Apache Kafka broker (tools/kafka-broker): every message read once
// at several parallelisms, the offsets committed after the checkpoint, and malformed JSON skipped
// to a dead-letter topic. Skipped, loudly, when
// the broker's prerequisites (Java 17+, Maven for the first fetch) are missing.

#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <vector>

#include "sluice/operators/kafka_sink.hpp"
#include "sluice/operators/kafka_source.hpp"

#include "support/kafka_support.hpp"
#include "support/test_support.hpp"

using namespace sluice;

TEST_CASE("a Kafka source reads a real broker's topic once and commits its offsets") {
  auto broker = test::kafka_broker::start_or_skip();
  if (!broker)
    return;
  broker->create_topic("orders", 3);
  std::vector<std::string> expected;
  {
    test::kafka_producer producer{broker->bootstrap()};
    for (int i = 0; i < 3000; ++i) {
      expected.push_back("order-" + std::to_string(i));
      producer.produce("orders", i % 3, expected.back(), 1'700'000'000'000 + i);
    }
    producer.flush();
  }
  std::sort(expected.begin(), expected.end());
  for (uint32_t parallelism : {1u, 2u, 3u}) {
    INFO("parallelism " << parallelism);
    kafka_source_options options;
    options.topic = "orders";
    options.properties = {{"bootstrap.servers", broker->bootstrap()},
                          {"group.id", "readers-" + std::to_string(parallelism)}};
    options.bounded = true;
    test::temp_dir state;
    pipeline p{"orders"};
    std::vector<std::string> out;
    p.source(kafka_source(options)).parallelism(parallelism).sink(collect(out));
    runtime rt{test::recovery_config(state)};
    REQUIRE_FALSE(rt.run(p));
    std::sort(out.begin(), out.end());
    CHECK(out == expected);
    CHECK(test::committed_offsets(broker->bootstrap(), options.properties["group.id"], "orders", 3)
          == std::vector<int64_t>{1000, 1000, 1000});
  }
}

TEST_CASE("malformed JSON on a real broker goes to a dead-letter topic and the rest is read") {
  // topic events --kafka_source(JSON, skip, p=2)--> collect;  dead letters --> topic events-dead
  auto broker = test::kafka_broker::start_or_skip();
  if (!broker)
    return;
  broker->create_topic("events", 2);
  broker->create_topic("events-dead", 1);
  std::vector<int64_t> expected;
  {
    test::kafka_producer producer{broker->bootstrap()};
    for (int i = 0; i < 1000; ++i) {
      if (i % 250 == 7) {
        producer.produce("events", i % 2, "{\"n\": " + std::to_string(i) + ",", 1'000 + i);
        continue;
      }
      producer.produce("events", i % 2, "{\"n\": " + std::to_string(i) + "}", 1'000 + i);
      expected.push_back(i);
    }
    producer.flush();
  }
  kafka_source_options in;
  in.topic = "events";
  in.properties = {{"bootstrap.servers", broker->bootstrap()}, {"group.id", "events"}};
  in.bounded = true;
  kafka_sink_options dead;
  dead.topic = "events-dead";
  dead.properties = {{"bootstrap.servers", broker->bootstrap()}};
  dead.delivery = kafka_delivery::exactly_once;
  test::temp_dir state;
  pipeline p{"events"};
  std::vector<int64_t> out;
  p.source(kafka_source(in, json_serde<>{}))
    .parallelism(2)
    .on_failure(failure_policy::skip)
    .map([](const boost::json::value& v) { return v.at("n").as_int64(); })
    .sink(collect(out));
  p.dead_letters().sink(kafka_sink(dead, json_serde<dead_letter>{}));
  runtime rt{test::recovery_config(state)};
  auto error = rt.run(p);
  INFO(describe(error));
  REQUIRE_FALSE(error);
  std::sort(out.begin(), out.end());
  CHECK(out == expected);
  std::vector<std::string> payloads;
  for (const auto& m : test::read_topic(broker->bootstrap(), "events-dead", 1)) {
    auto letter = json_serde<dead_letter>{}.decode(m.value);
    CHECK_THAT(letter.error, Catch::Contains("Kafka topic 'events' partition 1 offset "));
    CHECK_THAT(letter.error, Catch::Contains("malformed JSON"));
    payloads.push_back(letter.payload);
  }
  std::sort(payloads.begin(), payloads.end());
  CHECK(payloads
        == std::vector<std::string>{"{\"n\": 257,", "{\"n\": 507,", "{\"n\": 7,", "{\"n\": 757,"});
}
