// Exactly once into Kafka on a real broker:
//   topic words --kafka_source(p=2)--> key_by --> count(p=2) --kafka_sink(exactly once, p=2)-->
//   topic counts
// The job (sluice_kafka_count_job, a separate process) is killed with SIGKILL at random moments
// and restarted over its state directory; a read_committed consumer of `counts` must see, for
// every word, each of its running counts 1..n exactly once. Restarted at another parallelism
// (2, then 3, then 1), the same holds.

#include <catch2/catch.hpp>

#include <chrono>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "sluice/checkpoint_record.hpp"

#include "support/build_paths.hpp"
#include "support/kafka_counts.hpp"
#include "support/kafka_support.hpp"
#include "support/process.hpp"
#include "support/test_support.hpp"

using namespace std::chrono_literals;

namespace {

pid_t start_job(const std::string& bootstrap, const std::string& state, uint32_t parallelism = 2) {
  return sluice::test::start_process(
    sluice::test::kafka_count_job(),
    {bootstrap, "words", "counts", state, std::to_string(parallelism)});
}

/// Writes `words` random words of `distinct` into topic `words` (3 partitions); returns how many
/// times each word came.
std::map<std::string, int64_t> fill_words(sluice::test::kafka_broker& broker, int words,
                                          int distinct) {
  broker.create_topic("words", 3);
  broker.create_topic("counts", 2);
  std::map<std::string, int64_t> expected;
  sluice::test::kafka_producer producer{broker.bootstrap()};
  std::mt19937 rng{5};
  for (int i = 0; i < words; ++i) {
    auto word = "w" + std::to_string(rng() % static_cast<unsigned>(distinct));
    ++expected[word];
    producer.produce("words", i % 3, word, 1'700'000'000'000 + i);
  }
  producer.flush();
  return expected;
}

/// The number of checkpoints of the job completed in state directory `state`.
uint64_t completed_checkpoints(const std::string& state) {
  return sluice::checkpoint_record::load(state + "/kafka-count/checkpoints").completed;
}

} // namespace

TEST_CASE("a Kafka-to-Kafka count killed with SIGKILL and restarted writes every count once") {
  auto broker = sluice::test::kafka_broker::start_or_skip();
  if (!broker)
    return;
  auto expected = fill_words(*broker, 200'000, 500);
  sluice::test::temp_dir dir;
  auto state = dir.file("state");
  auto outcome = sluice::test::kill_after_checkpoints(
    6, [&] { return start_job(broker->bootstrap(), state); },
    [&] { return completed_checkpoints(state); }, 150ms, 11);
  REQUIRE(outcome.kills >= 1);
  if (!outcome.finished)
    REQUIRE(sluice::test::wait_process(start_job(broker->bootstrap(), state)) == 0);
  INFO(outcome.kills << " kills");
  sluice::test::check_counts_once(broker->bootstrap(), "counts", 2, expected);
}

TEST_CASE(
  "a Kafka-to-Kafka count killed and restarted at another parallelism writes every count "
  "once") {
  auto broker = sluice::test::kafka_broker::start_or_skip();
  if (!broker)
    return;
  auto expected = fill_words(*broker, 200'000, 300);
  sluice::test::temp_dir dir;
  auto state = dir.file("state");
  // 2 instances, then 3 (a source and a transactional id more), each killed after a checkpoint
  // of its own; then 1, which takes over the gone instances' splits and transactional ids.
  for (uint32_t parallelism : {2u, 3u}) {
    INFO("parallelism " << parallelism);
    auto outcome = sluice::test::kill_after_checkpoints(
      1, [&] { return start_job(broker->bootstrap(), state, parallelism); },
      [&] { return completed_checkpoints(state); }, 150ms, parallelism);
    REQUIRE(outcome.kills == 1);
  }
  REQUIRE(sluice::test::wait_process(start_job(broker->bootstrap(), state, 1)) == 0);
  sluice::test::check_counts_once(broker->bootstrap(), "counts", 2, expected);
}
