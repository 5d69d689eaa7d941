#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <iostream>
#include <optional>
#include <random>
#include <thread>

#include "sluice/checkpoint_record.hpp"

#include "run.hpp"

namespace chaos {

namespace {

using clock = std::chrono::steady_clock;

/// Starts `program` with `args` as a child process; returns its process id.
pid_t start_process(const std::string& program, const std::vector<std::string>& args) {
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
int wait_process(pid_t pid) {
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
}

/// Waits at most `timeout` for child `pid`; kills it if it has not ended by then. Returns its
/// exit status, or -signal if a signal ended it, or nothing if it had to be killed.
std::optional<int> wait_process_for(pid_t pid, std::chrono::seconds timeout) {
  auto deadline = clock::now() + timeout;
  int status = 0;
  while (waitpid(pid, &status, WNOHANG) == 0) {
    if (clock::now() > deadline) {
      kill(pid, SIGKILL);
      wait_process(pid);
      return std::nullopt;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds{10});
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
}

/// True once `condition` holds, polled until `timeout` passes.
template <class Condition>
bool poll_until(Condition condition, std::chrono::seconds timeout) {
  auto deadline = clock::now() + timeout;
  while (!condition()) {
    if (clock::now() > deadline)
      return false;
    std::this_thread::sleep_for(std::chrono::milliseconds{2});
  }
  return true;
}

} // namespace

int run_child(const run_options& o, const std::string& state_dir, const std::string& out) {
  sluice::pipeline p{"chaos"};
  o.job_shape->build(p, make_spec(o, nullptr, out));
  sluice::runtime rt{job_config(state_dir)};
  if (auto err = rt.run(p)) {
    std::cerr << "sluice-chaos child: " << sluice::describe(err) << '\n';
    return 1;
  }
  return 0;
}

run_result run_killed_processes(const run_options& o, const std::string& self) {
  run_result result;
  auto dir = std::filesystem::temp_directory_path()
             / ("sluice-chaos-processes-" + std::to_string(o.seed) + "-"
                + std::to_string(std::random_device{}()));
  std::filesystem::create_directories(dir);
  auto state = (dir / "state").string();
  auto out = (dir / "out.txt").string();
  auto record = state + "/chaos/checkpoints";
  auto completed = [&] { return sluice::checkpoint_record::load(record).completed; };
  std::vector<std::string> args{"--child",
                                "--shape",
                                o.job_shape->name,
                                "--records",
                                std::to_string(o.records),
                                "--rate",
                                std::to_string(o.rate),
                                "--state",
                                state,
                                "--out",
                                out};
  std::mt19937 random{o.seed};
  std::uniform_int_distribution<int64_t> delay{0, o.max_gap.count()};
  auto start = clock::now();
  bool finished = false;
  while (result.process_kills < o.process_kills && !finished) {
    auto before = completed();
    auto pid = start_process(self, args);
    // Each run is killed a random moment after it completed a checkpoint of its own, so every
    // restart restores state that an earlier run built.
    bool progressed = poll_until([&] { return completed() > before; }, o.timeout);
    std::this_thread::sleep_for(std::chrono::milliseconds{delay(random)});
    kill(pid, SIGKILL);
    auto status = wait_process(pid);
    if (status == -SIGKILL && progressed) {
      ++result.process_kills;
    } else if (status == -SIGKILL) {
      result.error =
        "a run completed no checkpoint within " + std::to_string(o.timeout.count()) + " s";
      break;
    } else if (status == 0) {
      finished = true; // it ended before its kill
    } else {
      result.error = "a run exited with status " + std::to_string(status);
      break;
    }
  }
  if (result.error.empty() && !finished) {
    auto status = wait_process_for(start_process(self, args), o.timeout);
    if (!status)
      result.error =
        "hung: the last run did not end within " + std::to_string(o.timeout.count()) + " s";
    else if (*status != 0)
      result.error = "the last run exited with status " + std::to_string(*status);
  }
  result.seconds = std::chrono::duration<double>(clock::now() - start).count();
  result.restarts = result.process_kills;
  if (result.error.empty()) {
    try {
      result.outcome = check(read_results(out), o.records);
    } catch (const std::exception& e) {
      result.error = e.what();
    }
  }
  if (result.process_kills < o.process_kills && result.error.empty())
    result.error = "the job ended after " + std::to_string(result.process_kills) + " of "
                   + std::to_string(o.process_kills) + " kills: give it more --records";
  std::error_code ignored;
  std::filesystem::remove_all(dir, ignored);
  return result;
}

} // namespace chaos
