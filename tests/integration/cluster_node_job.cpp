// A cluster node for the tests that kill nodes (cluster_loss_test.cpp): a streaming word count
// from a Kafka topic to a Kafka topic with the exactly-once sink and checkpoints every 100 ms,
// every operator at parallelism 3 over as many nodes as the test starts, throttled to 20 words
// per ms per instance so that a node killed after a checkpoint finds the job running in any
// build. Its log (stderr) goes to a file the test reads.
//
//   sluice_cluster_node_job <log file> <pipeline> <bootstrap> <words topic> <counts topic>
//                           bounded|endless --sluice.node=NAME [more node settings]

#include <cstdio>
#include <iostream>
#include <string>

#include "sluice/all.hpp"
#include "sluice/cluster/node.hpp"
#include "sluice/operators/kafka_sink.hpp"
#include "sluice/operators/kafka_source.hpp"

#include "support/throttle.hpp"

int main(int argc, char** argv) {
  if (argc < 7) {
    std::cerr << "usage: sluice_cluster_node_job <log file> <pipeline> <bootstrap> <words topic> "
                 "<counts topic> bounded|endless --sluice.node=NAME [settings]\n";
    return 2;
  }
  if (!std::freopen(argv[1], "w", stderr)) {
    std::perror(argv[1]);
    return 2;
  }
  const std::string pipeline_name = argv[2];
  sluice::kafka_source_options in;
  in.topic = argv[4];
  in.properties = {{"bootstrap.servers", argv[3]}, {"group.id", pipeline_name}};
  in.bounded = std::string{argv[6]} == "bounded";
  sluice::kafka_sink_options out;
  out.topic = argv[5];
  out.properties = {{"bootstrap.servers", argv[3]}};
  out.delivery = sluice::kafka_delivery::exactly_once;

  sluice::pipeline p{pipeline_name};
  p.source(sluice::kafka_source(in))
    .parallelism(3)
    .name("words")
    .peek(sluice::test::throttle{20})
    .parallelism(3)
    .key_by([](const std::string& w) { return w; })
    .count()
    .parallelism(3)
    .name("count")
    .sink(sluice::kafka_sink(out, sluice::string_serde{}, sluice::json_serde<int64_t>{}))
    .parallelism(3)
    .name("counts");
  sluice::runtime_config config;
  config.mode = sluice::execution_mode::streaming;
  config.state = sluice::state_backend::lmdb;
  config.checkpoint_interval = std::chrono::milliseconds{100};
  config.batch_size = 64;
  config.input_buffer = 256;
  // "bounded|endless" stands in for the program's name in the node's arguments.
  auto err = sluice::cluster::run_node(p, argc - 6, argv + 6, config);
  std::cerr << "result: " << (err ? sluice::describe(err) : std::string{"done"}) << std::endl;
  return err ? 1 : 0;
}
