// Exactly once into Kafka on a real broker:
//   topic words --kafka_source(p=2)--> key_by --> count(p=2) --kafka_sink(exactly once, p=2)-->
//   topic counts
// The job (sluice_kafka_count_job, a separate process) is killed with SIGKILL at random moments
// and restarted over its state directory; a read_committed consumer of `counts` must see, for
// every word, each of its running counts 1..n exactly once.

#include <catch2/catch.hpp>

#include <chrono>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "sluice/checkpoint_record.hpp"

#include "support/kafka_support.hpp"
#include "support/process.hpp"
#include "support/test_support.hpp"

using namespace std::chrono_literals;

namespace {

pid_t start_job(const std::string& bootstrap, const std::string& state) {
  return sluice::test::start_process(SLUICE_KAFKA_COUNT_JOB, {bootstrap, "words", "counts", state});
}

} // namespace

TEST_CASE("a Kafka-to-Kafka count killed with SIGKILL and restarted writes every count once") {
  auto broker = sluice::test::kafka_broker::start_or_skip();
  if (!broker)
    return;
  broker->create_topic("words", 3);
  broker->create_topic("counts", 2);
  constexpr int words = 200'000;
  constexpr int distinct = 500;
  std::map<std::string, int64_t> expected;
  {
    sluice::test::kafka_producer producer{broker->bootstrap()};
    std::mt19937 rng{5};
    for (int i = 0; i < words; ++i) {
      auto word = "w" + std::to_string(rng() % distinct);
      ++expected[word];
      producer.produce("words", i % 3, word, 1'700'000'000'000 + i);
    }
    producer.flush();
  }

  sluice::test::temp_dir dir;
  auto state = dir.file("state");
  auto completed = [&] {
    return sluice::checkpoint_record::load(state + "/kafka-count/checkpoints").completed;
  };
  auto outcome = sluice::test::kill_after_checkpoints(
    6, [&] { return start_job(broker->bootstrap(), state); }, completed, 150ms, 11);
  REQUIRE(outcome.kills >= 1);
  if (!outcome.finished)
    REQUIRE(sluice::test::wait_process(start_job(broker->bootstrap(), state)) == 0);

  // Every word's counts 1..n, each exactly once, in its partition's order.
  std::map<std::string, std::vector<int64_t>> seen;
  for (const auto& m : sluice::test::read_topic(broker->bootstrap(), "counts", 2))
    seen[m.key].push_back(std::stoll(m.value));
  INFO(outcome.kills << " kills");
  REQUIRE(seen.size() == expected.size());
  for (const auto& [word, n] : expected) {
    INFO("word " << word);
    std::vector<int64_t> counts;
    for (int64_t c = 1; c <= n; ++c)
      counts.push_back(c);
    CHECK(seen[word] == counts);
  }
}
