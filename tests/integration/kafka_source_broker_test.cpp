// kafka_source against a real Apache Kafka broker (tools/kafka-broker): every message read once
// at several parallelisms, and the offsets committed after the checkpoint. Skipped, loudly, when
// the broker's prerequisites (Java 17+, Maven for the first fetch) are missing.

#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <vector>

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
