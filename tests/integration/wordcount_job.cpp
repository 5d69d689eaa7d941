// The job the kill-and-restart test runs as a separate process: a streaming word count with
// checkpoints every 100 ms, from a text file to a text file, throttled to 100k words/s so that
// a run killed after a checkpoint has done about as much in any build.
//
//   sluice_wordcount_job <input> <output> <state_dir>

#include <iostream>
#include <sstream>

#include "sluice/all.hpp"

#include "support/throttle.hpp"

int main(int argc, char** argv) {
  if (argc != 4) {
    std::cerr << "usage: sluice_wordcount_job <input> <output> <state_dir>\n";
    return 2;
  }
  sluice::pipeline p{"wordcount"};
  p.source(sluice::text_file(argv[1]))
    .parallelism(2)
    .flat_map([](const std::string& line, sluice::emitter<std::string>& out) {
      std::istringstream words{line};
      for (std::string w; words >> w;)
        out(w);
    })
    .parallelism(2)
    .peek(sluice::test::throttle{50})
    .parallelism(2)
    .key_by([](const std::string& w) { return w; })
    .count()
    .parallelism(2)
    .sink(sluice::write_file(argv[2]));
  sluice::runtime_config config;
  config.mode = sluice::execution_mode::streaming;
  config.state_dir = argv[3];
  config.checkpoint_interval = std::chrono::milliseconds{100};
  sluice::runtime rt{config};
  if (auto err = rt.run(p)) {
    std::cerr << sluice::describe(err) << "\n";
    return 1;
  }
  return 0;
}
