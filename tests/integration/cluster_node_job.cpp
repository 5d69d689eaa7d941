// A cluster node for the tests that kill nodes (cluster_loss_test.cpp): an endless streaming
// count of generated words (6000 a second over three source instances) with checkpoints, run by
// as many nodes as the test starts. Its log (stderr) goes to a file the test reads; its output,
// printed, to nowhere.
//
//   sluice_cluster_node_job <log file> <pipeline> --sluice.node=NAME [more node settings]

#include <cstdio>
#include <iostream>
#include <string>

#include "sluice/all.hpp"
#include "sluice/cluster/node.hpp"

#include "support/exact_counts.hpp"

int main(int argc, char** argv) {
  if (argc < 3) {
    std::cerr << "usage: sluice_cluster_node_job <log file> <pipeline> --sluice.node=NAME "
                 "[settings]\n";
    return 2;
  }
  if (!std::freopen(argv[1], "w", stderr) || !std::freopen("/dev/null", "w", stdout)) {
    std::perror(argv[1]);
    return 2;
  }
  sluice::pipeline p{argv[2]};
  p.source(sluice::generate<std::string>(sluice::test::key_of, {.rate = 6000}))
    .parallelism(3)
    .name("words")
    .key_by([](const std::string& w) { return w; })
    .count()
    .parallelism(3)
    .name("count")
    .sink(sluice::print())
    .parallelism(3)
    .name("out");
  sluice::runtime_config config;
  config.state = sluice::state_backend::lmdb;
  config.checkpoint_interval = std::chrono::milliseconds(200);
  // The pipeline's name stands in for the program's in the node's arguments.
  auto err = sluice::cluster::run_node(p, argc - 2, argv + 2, config);
  std::cerr << "result: " << (err ? sluice::describe(err) : std::string{"done"}) << std::endl;
  return err ? 1 : 0;
}
