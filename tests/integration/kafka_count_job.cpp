// The job the Kafka exactly-once test runs as a separate process: a streaming word count from a
// Kafka topic to a Kafka topic, with checkpoints every 100 ms and a transactional sink, every
// operator at `parallelism` (2 unless given), throttled to 20k words/s per instance so that a run
// killed after a checkpoint has done about as much in any build.
//
//   sluice_kafka_count_job <bootstrap> <input topic> <output topic> <state_dir> [parallelism]

#include <iostream>
#include <string>

#include "sluice/all.hpp"
#include "sluice/operators/kafka_sink.hpp"
#include "sluice/operators/kafka_source.hpp"

#include "support/throttle.hpp"

int main(int argc, char** argv) {
  if (argc != 5 && argc != 6) {
    std::cerr << "usage: sluice_kafka_count_job <bootstrap> <input topic> <output topic> "
                 "<state_dir> [parallelism]\n";
    return 2;
  }
  const auto parallelism = argc == 6 ? static_cast<uint32_t>(std::stoul(argv[5])) : 2u;
  sluice::kafka_source_options in;
  in.topic = argv[2];
  in.properties = {{"bootstrap.servers", argv[1]}, {"group.id", "kafka-count"}};
  in.bounded = true;
  sluice::kafka_sink_options out;
  out.topic = argv[3];
  out.properties = {{"bootstrap.servers", argv[1]}};
  out.delivery = sluice::kafka_delivery::exactly_once;

  sluice::pipeline p{"kafka-count"};
  p.source(sluice::kafka_source(in))
    .parallelism(parallelism)
    .peek(sluice::test::throttle{20})
    .parallelism(parallelism)
    .key_by([](const std::string& w) { return w; })
    .count()
    .parallelism(parallelism)
    .sink(sluice::kafka_sink(out, sluice::string_serde{}, sluice::json_serde<int64_t>{}))
    .parallelism(parallelism);
  sluice::runtime_config config;
  config.mode = sluice::execution_mode::streaming;
  config.state_dir = argv[4];
  config.checkpoint_interval = std::chrono::milliseconds{100};
  // Small batches and credit: a barrier waits behind few records at the throttled stage, so a
  // run's first checkpoint completes soon after its start, however loaded the machine.
  config.batch_size = 64;
  config.input_buffer = 256;
  sluice::runtime rt{config};
  if (auto err = rt.run(p)) {
    std::cerr << sluice::describe(err) << "\n";
    return 1;
  }
  return 0;
}
