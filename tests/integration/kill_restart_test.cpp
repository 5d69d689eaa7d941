// sluice_wordcount_job (a separate process) killed with SIGKILL at random moments and restarted
// over its state directory, against an uninterrupted run of the same job

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdint>
#include <fstream>
#include <random>

#include "sluice/checkpoint_record.hpp"

#include "support/build_paths.hpp"
#include "support/output_fingerprint.hpp"
#include "support/process.hpp"
#include "support/test_support.hpp"

using namespace std::chrono_literals;

namespace {

/// Starts the job, throttled to `words_per_ms` per instance unless 0; returns its process id.
pid_t start_job(const std::string& input, const std::string& output, const std::string& state,
                uint64_t words_per_ms = 0) {
  return sluice::test::start_process(sluice::test::wordcount_job(),
                                     {input, output, state, std::to_string(words_per_ms)});
}

} // namespace

TEST_CASE("a word count killed with SIGKILL 20 times and restarted writes exactly its output") {
  constexpr int input_lines = 300'000;
  sluice::test::temp_dir input_dir;
  auto input = input_dir.file("words.txt");
  {
    std::mt19937 rng{99};
    std::ofstream file{input};
    for (int line = 0; line < input_lines; ++line) {
      for (int w = 0; w < 8; ++w)
        file << "w" << rng() % 2000 << ' ';
      file << '\n';
    }
  }

  sluice::test::temp_dir reference;
  REQUIRE(
    sluice::test::wait_process(start_job(input, reference.file("out.txt"), reference.file("state")))
    == 0);
  auto expected = sluice::test::output_fingerprint(reference.file("out.txt"));
  REQUIRE(expected.lines == input_lines * 8);

  // Each run is killed at a random moment after it completed a checkpoint of its own. The killed
  // runs count at most 40k words/s, so the input lasts a minute of them: 20 runs of up to three
  // seconds each to their first checkpoint, however slow the build or busy the machine.
  sluice::test::temp_dir killed;
  auto record_path = killed.file("state") + "/wordcount/checkpoints";
  auto completed = [&] { return sluice::checkpoint_record::load(record_path).completed; };
  auto outcome = sluice::test::kill_after_checkpoints(
    20, [&] { return start_job(input, killed.file("out.txt"), killed.file("state"), 20); },
    completed, 50ms, 7);
  REQUIRE(outcome.kills == 20);
  CHECK(completed() >= 20);
  REQUIRE(sluice::test::wait_process(start_job(input, killed.file("out.txt"), killed.file("state")))
          == 0);
  auto actual = sluice::test::output_fingerprint(killed.file("out.txt"));
  CHECK(actual.lines == expected.lines);
  CHECK(actual.sum == expected.sum);
  CHECK(actual.mixed_sum == expected.mixed_sum);
}
