// The job the kill-and-restart test runs as a separate process: a streaming word count with
// checkpoints every 100 ms and small batches, from a text file to a text file. The runs the test
// kills are throttled (to `words per ms` per instance), so that how far a run gets before its kill
// depends on the throttle, not on how fast the build is or how loaded the machine; the runs that go
// to the end are not.
//
//   sluice_wordcount_job <input> <output> <state_dir> [words per ms]

#include <iostream>
#include <sstream>
#include <string>

#include "sluice/all.hpp"

#include "support/throttle.hpp"

int main(int argc, char** argv) {
  if (argc != 4 && argc != 5) {
    std::cerr << "usage: sluice_wordcount_job <input> <output> <state_dir> [words per ms]\n";
    return 2;
  }
  const uint64_t words_per_ms = argc == 5 ? std::stoull(argv[4]) : 0;
  sluice::pipeline p{"wordcount"};
  p.source(sluice::text_file(argv[1]))
    .parallelism(2)
    .flat_map([](const std::string& line, sluice::emitter<std::string>& out) {
      std::istringstream words{line};
      for (std::string w; words >> w;)
        out(w);
    })
    .parallelism(2)
    .peek(sluice::test::throttle{words_per_ms})
    .parallelism(2)
    .key_by([](const std::string& w) { return w; })
    .count()
    .parallelism(2)
    .sink(sluice::write_file(argv[2]));
  sluice::runtime_config config;
  config.mode = sluice::execution_mode::streaming;
  config.state_dir = argv[3];
  config.checkpoint_interval = std::chrono::milliseconds{100};
  // Small batches and credit: a barrier then waits behind few records at the throttled stage, so
  // a killed run's first checkpoint completes after a short while, not after a window of lines
  // (8 words each) has gone through the throttle.
  config.batch_size = 64;
  config.input_buffer = 256;
  sluice::runtime rt{config};
  if (auto err = rt.run(p)) {
    std::cerr << sluice::describe(err) << "\n";
    return 1;
  }
  return 0;
}
