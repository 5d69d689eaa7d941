#include "kafka_broker.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>

namespace bench {

namespace {

struct broker_state {
  bool tried = false;
  pid_t owner = 0;       ///< the process that started it (children never stop it)
  std::string dir;       ///< temporary directory; the broker's state is in dir/broker
  std::string bootstrap; ///< empty: no broker
  std::string skip;      ///< why there is none
  pid_t jvm = 0;         ///< the broker's pid, for its CPU time and for a stop on a signal
  std::set<std::string> topics;
};

broker_state& broker() {
  static broker_state b;
  return b;
}

std::string script() {
  return source_dir() + "/tools/kafka-broker";
}

std::string file_text(const std::string& path) {
  std::stringstream s;
  s << std::ifstream{path}.rdbuf();
  return s.str();
}

void stop_broker() {
  auto& b = broker();
  if (b.owner != getpid() || b.bootstrap.empty())
    return;
  run_command(script() + " stop " + shell_quoted(b.dir + "/broker") + " >/dev/null 2>&1");
  b.bootstrap.clear();
  std::error_code ignored;
  std::filesystem::remove_all(b.dir, ignored);
}

/// Interrupted (Ctrl-C): stop the JVM too (kill is async-signal-safe; its directory stays).
void on_signal(int sig) {
  auto& b = broker();
  if (b.owner == getpid() && b.jvm > 0)
    ::kill(b.jvm, SIGTERM);
  std::signal(sig, SIG_DFL);
  std::raise(sig);
}

} // namespace

std::string source_dir() {
  return SLUICE_SOURCE_DIR;
}

const std::string& broker_bootstrap() {
  return broker().bootstrap;
}

std::string shell_quoted(const std::string& s) {
  std::string q = "'";
  for (char c : s)
    q += c == '\'' ? std::string{"'\\''"} : std::string(1, c);
  return q + "'";
}

std::pair<int, std::string> run_command(const std::string& command) {
  std::string out;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (!pipe)
    throw std::runtime_error("cannot run: " + command);
  std::array<char, 4096> buffer{};
  while (auto n = std::fread(buffer.data(), 1, buffer.size(), pipe))
    out.append(buffer.data(), n);
  int status = ::pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

std::string tail(std::string s, size_t n) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' '))
    s.pop_back();
  return s.size() <= n ? s : "..." + s.substr(s.size() - n);
}

std::string ensure_broker() {
  auto& b = broker();
  if (b.tried) {
    if (!b.bootstrap.empty() || !b.skip.empty())
      return b.skip;
    throw std::runtime_error("the Kafka broker failed to start earlier in this run");
  }
  b.tried = true;
  std::string tmpl = "/tmp/sluice-bench-kafka-XXXXXX";
  if (!::mkdtemp(tmpl.data()))
    throw std::runtime_error("cannot create a directory for the Kafka broker");
  b.dir = tmpl;
  auto errors = b.dir + "/start.err";
  auto [status, out] = run_command(script() + " start " + shell_quoted(b.dir + "/broker") + " 2>"
                                   + shell_quoted(errors));
  auto reason = file_text(errors);
  if (status != 0) {
    std::error_code ignored;
    std::filesystem::remove_all(b.dir, ignored);
    if (status == 3) {
      auto line = reason.substr(0, reason.find('\n'));
      b.skip = "no Kafka broker (" + line + ")";
      return b.skip;
    }
    throw std::runtime_error("tools/kafka-broker start failed (status " + std::to_string(status)
                             + "): " + tail(reason, 300));
  }
  b.owner = getpid();
  b.bootstrap = out.substr(0, out.find_first_of("\r\n"));
  b.jvm = static_cast<pid_t>(std::atol(file_text(b.dir + "/broker/broker.pid").c_str()));
  std::atexit(stop_broker);
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  return "";
}

void create_topic(const std::string& name, int partitions) {
  auto& b = broker();
  if (b.topics.contains(name))
    return;
  auto [status, out] =
    run_command(script() + " topic " + shell_quoted(b.dir + "/broker") + " create " + name + " "
                + std::to_string(partitions) + " 2>&1");
  if (status != 0)
    throw std::runtime_error("cannot create topic " + name + ": " + tail(out, 300));
  b.topics.insert(name);
}

double broker_cpu_s() {
  auto pid = broker().jvm;
  if (pid <= 0)
    return 0;
  auto stat = file_text("/proc/" + std::to_string(pid) + "/stat");
  auto close = stat.rfind(')');
  if (close == std::string::npos)
    return 0;
  std::istringstream in{stat.substr(close + 2)};
  std::string field;
  double ticks = 0;
  // After the command: state is field 3; utime and stime are fields 14 and 15.
  for (int i = 3; i <= 15 && in >> field; ++i)
    if (i >= 14)
      ticks += std::atof(field.c_str());
  return ticks / static_cast<double>(sysconf(_SC_CLK_TCK));
}

} // namespace bench
