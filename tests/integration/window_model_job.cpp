// The job the window model test kills with SIGKILL, as a separate process: the windows of one
// kind over the records of tests/support/window_model.hpp, with checkpoints every 100 ms, into
// exactly-once files of results and of late record ids. The runs the test kills are throttled, so
// that how far a run gets before its kill depends on the throttle, not on how fast the build is.
//
//   sluice_window_model_job <kind> <events> <seed> <output dir> <state dir> [records per s]

#include <iostream>
#include <string>

#include "sluice/all.hpp"

#include "support/window_model.hpp"

int main(int argc, char** argv) {
  if (argc != 6 && argc != 7) {
    std::cerr << "usage: sluice_window_model_job <kind> <events> <seed> <output dir> <state dir> "
                 "[records per s]\n";
    return 2;
  }
  constexpr uint64_t batch = 64;
  auto model =
    sluice::test::make_window_model(sluice::test::kind_named(argv[1]), std::stoull(argv[2]), 20,
                                    batch, static_cast<unsigned>(std::stoul(argv[3])));
  const std::string out = argv[4];
  sluice::pipeline p{"window_model"};
  sluice::test::window_model_job(p, model, 2, argc == 7 ? std::stod(argv[6]) : 0.0,
                                 sluice::write_file(out + "/results"),
                                 sluice::write_file(out + "/late"));
  sluice::runtime_config config;
  config.mode = sluice::execution_mode::streaming;
  config.state_dir = argv[5];
  config.checkpoint_interval = std::chrono::milliseconds{100};
  config.batch_size = batch;
  config.input_buffer = 256;
  sluice::runtime rt{config};
  if (auto err = rt.run(p)) {
    std::cerr << sluice::describe(err) << "\n";
    return 1;
  }
  return 0;
}
