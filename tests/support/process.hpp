#pragma once

// Child processes for the tests that kill a job: start one, wait for it, kill it again and again.

#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "support/test_support.hpp"

namespace sluice::test {

/// Starts `program` with `args` as a child process; returns its process id.
inline pid_t start_process(const std::string& program, const std::vector<std::string>& args) {
  std::vector<char*> argv;
  argv.push_back(const_cast<char*>(program.c_str()));
  for (const auto& a : args)
    argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  pid_t pid = fork();
  if (pid == 0) {
    execv(program.c_str(), argv.data());
    _exit(127);
  }
  return pid;
}

/// Waits for child `pid`; returns its exit status, or -signal if a signal ended it.
inline int wait_process(pid_t pid) {
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
}

/// What `kill_after_checkpoints` did: the runs it killed, and whether a run finished first.
struct kill_outcome {
  int kills = 0;
  bool finished = false;
};

/// Starts a job with `start` and kills it with SIGKILL at a random moment, up to `max_delay`
/// after the run completed a checkpoint of its own (so every restart restores state an earlier
/// run built), until `times` runs are killed or one finishes before its kill. `completed` is the
/// number of checkpoints the job's state directory holds as completed.
inline kill_outcome kill_after_checkpoints(int times, const std::function<pid_t()>& start,
                                           const std::function<uint64_t()>& completed,
                                           std::chrono::milliseconds max_delay, unsigned seed) {
  std::mt19937 rng{seed};
  std::uniform_int_distribution<int64_t> delay{0, max_delay.count()};
  kill_outcome outcome;
  while (outcome.kills < times && !outcome.finished) {
    auto before = completed();
    auto pid = start();
    auto progressed = eventually([&] { return completed() > before; }, std::chrono::seconds(60));
    std::this_thread::sleep_for(std::chrono::milliseconds{delay(rng)});
    kill(pid, SIGKILL);
    auto status = wait_process(pid);
    if (status == -SIGKILL) {
      REQUIRE(progressed);
      ++outcome.kills;
    } else {
      REQUIRE(status == 0); // it finished before the kill
      outcome.finished = true;
    }
  }
  return outcome;
}

} // namespace sluice::test
