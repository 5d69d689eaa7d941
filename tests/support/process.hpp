#pragma once

// Child processes for the tests that kill a job: start one, wait for it.

#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <vector>

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

} // namespace sluice::test
