// kafka::ensure_topics against a real Apache Kafka broker (tools/kafka-broker): missing topics
// are created with their partitions and configs, existing ones are left as they are, and a
// refused config or unreachable brokers are clear errors naming the topic. Skipped, loudly, when
// the broker's prerequisites are missing.

#include <catch2/catch.hpp>

#include <chrono>
#include <string>
#include <vector>

#include "sluice/operators/kafka_admin.hpp"

#include "support/kafka_support.hpp"
#include "support/test_support.hpp"

using namespace sluice;
using namespace std::chrono_literals;

TEST_CASE("missing Kafka topics are created, existing ones left as they are", "[kafka-broker]") {
  auto broker = test::kafka_broker::start_or_skip();
  if (!broker)
    return;
  kafka::properties config{{"bootstrap.servers", broker->bootstrap()}};
  broker->create_topic("existing", 2);

  auto partitions = kafka::ensure_topics(
    config,
    {{"fresh", 5, {}}, {"compacted", 1, {{"cleanup.policy", "compact"}}}, {"existing", 7, {}}},
    30s);
  CHECK(partitions == std::vector<int32_t>{5, 1, 2});
  CHECK_THAT(broker->describe_topic("fresh"), Catch::Contains("PartitionCount: 5"));
  CHECK_THAT(broker->describe_topic("compacted"), Catch::Contains("cleanup.policy=compact"));
  CHECK_THAT(broker->describe_topic("existing"), Catch::Contains("PartitionCount: 2"));

  // Asked again, as another node would: found, not created twice.
  CHECK(kafka::ensure_topics(config, {{"fresh", 9, {}}}, 30s) == std::vector<int32_t>{5});

  try {
    (void)kafka::ensure_topics(config, {{"refused", 1, {{"cleanup.policy", "sometimes"}}}}, 30s);
    FAIL("a topic config the broker refuses was accepted");
  } catch (const kafka::kafka_error& e) {
    CHECK_THAT(std::string{e.what()}, Catch::Contains("'refused'"));
    CHECK(e.subject() == "refused");
  }
}

TEST_CASE("unreachable brokers are an error naming them and the topic", "[kafka]") {
  kafka::properties config{{"bootstrap.servers", "127.0.0.1:9"}};
  try {
    (void)kafka::ensure_topics(config, {{"nowhere", 1, {}}}, 2s);
    FAIL("topics were ensured without brokers");
  } catch (const kafka::kafka_error& e) {
    CHECK_THAT(std::string{e.what()},
               Catch::Contains("'nowhere'") && Catch::Contains("127.0.0.1:9"));
  }
  try {
    (void)kafka::ensure_topics({}, {{"nowhere", 1, {}}}, 2s);
    FAIL("topics were ensured without bootstrap.servers");
  } catch (const kafka::kafka_error& e) {
    CHECK_THAT(std::string{e.what()}, Catch::Contains("bootstrap.servers"));
  }
}
