#include "kafka_broker.hpp"

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <random>
#include <stdexcept>
#include <utility>

namespace chaos {

namespace {

/// Runs a shell command; returns its exit status and what it printed on stdout.
std::pair<int, std::string> run(const std::string& command) {
  std::string out;
  auto* pipe = ::popen(command.c_str(), "r");
  if (!pipe)
    return {-1, "cannot run: " + command};
  std::array<char, 4096> buffer{};
  while (auto n = std::fread(buffer.data(), 1, buffer.size(), pipe))
    out.append(buffer.data(), n);
  int status = ::pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

std::string script() {
  return SLUICE_KAFKA_BROKER_SCRIPT;
}

} // namespace

std::unique_ptr<kafka_broker> kafka_broker::start(std::string& why_not) {
  std::unique_ptr<kafka_broker> broker{new kafka_broker};
  std::random_device random;
  broker->dir_ =
    (std::filesystem::temp_directory_path() / ("sluice-chaos-kafka-" + std::to_string(random())))
      .string();
  auto [status, out] = run(script() + " start " + broker->dir_ + " 2>&1");
  if (status != 0) {
    why_not = "tools/kafka-broker start failed (" + std::to_string(status) + "): " + out;
    return nullptr;
  }
  // The bootstrap address is the last line the tool prints.
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r'))
    out.pop_back();
  broker->bootstrap_ = out.substr(out.find_last_of('\n') + 1);
  return broker;
}

kafka_broker::~kafka_broker() {
  run(script() + " stop " + dir_ + " >/dev/null 2>&1");
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

void kafka_broker::create_topic(const std::string& name, int partitions) {
  auto [status, out] = run(script() + " topic " + dir_ + " create " + name + " "
                           + std::to_string(partitions) + " 2>&1");
  if (status != 0)
    throw std::runtime_error("cannot create topic " + name + ": " + out);
}

} // namespace chaos
