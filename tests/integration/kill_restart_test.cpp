// sluice_wordcount_job (a separate process) killed with SIGKILL at random moments and restarted
// over its state directory, against an uninterrupted run of the same job

#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <random>
#include <thread>

#include "sluice/checkpoint_record.hpp"

#include "support/test_support.hpp"

using namespace std::chrono_literals;

namespace {

/// Starts the job; returns its process id.
pid_t start_job(const std::string& input, const std::string& output, const std::string& state) {
  pid_t pid = fork();
  if (pid == 0) {
    execl(SLUICE_WORDCOUNT_JOB, SLUICE_WORDCOUNT_JOB, input.c_str(), output.c_str(), state.c_str(),
          static_cast<char*>(nullptr));
    _exit(127);
  }
  return pid;
}

/// Waits for the job; returns its exit status, or -signal if a signal ended it.
int wait_job(pid_t pid) {
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
}

/// The lines of the job's output, sorted (the counting instances interleave differently in
/// every run).
std::vector<std::string> output_lines(const sluice::test::temp_dir& dir) {
  auto lines = sluice::test::read_lines(dir.file("out.txt"));
  std::sort(lines.begin(), lines.end());
  return lines;
}

} // namespace

TEST_CASE("a word count killed with SIGKILL 20 times and restarted writes exactly its output") {
  constexpr int input_lines = 360'000;
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
  auto started = std::chrono::steady_clock::now();
  REQUIRE(wait_job(start_job(input, reference.file("out.txt"), reference.file("state"))) == 0);
  auto uninterrupted = std::chrono::steady_clock::now() - started;
  auto expected = output_lines(reference);
  REQUIRE(expected.size() == input_lines * 8);

  // Kill at random moments, each run living a few percent of an uninterrupted run's time, so
  // the 20 kills land before the job is through.
  sluice::test::temp_dir killed;
  std::mt19937 rng{7};
  auto total = std::chrono::duration_cast<std::chrono::milliseconds>(uninterrupted).count();
  std::uniform_int_distribution<int64_t> delay{std::max<int64_t>(50, total / 40),
                                               std::max<int64_t>(100, total / 12)};
  int kills = 0;
  int finished_early = 0;
  for (int run = 0; kills < 20 && run < 40; ++run) {
    auto pid = start_job(input, killed.file("out.txt"), killed.file("state"));
    std::this_thread::sleep_for(std::chrono::milliseconds{delay(rng)});
    kill(pid, SIGKILL);
    auto status = wait_job(pid);
    if (status == -SIGKILL)
      ++kills;
    else
      REQUIRE(status == 0); // it finished before the kill
    finished_early += status == 0;
  }
  REQUIRE(kills == 20);
  INFO(finished_early << " of the runs finished before their kill");
  // The killed runs made progress through checkpoints, so restarts restored real state.
  auto record = sluice::checkpoint_record::load(killed.file("state") + "/wordcount/checkpoints");
  INFO("after 20 kills: checkpoint " << record.completed << " completed");
  CHECK(record.completed >= 2);
  REQUIRE(wait_job(start_job(input, killed.file("out.txt"), killed.file("state"))) == 0);
  auto lines = output_lines(killed);
  CHECK(lines.size() == expected.size());
  // Compared without printing: the outputs hold almost a million lines each.
  bool identical = lines == expected;
  CHECK(identical);
}
