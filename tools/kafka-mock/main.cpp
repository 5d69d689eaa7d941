// sluice-kafka-mock: librdkafka's mock Kafka cluster as a standalone process, for demos and for
// kcat or a test to talk to. Prints the bootstrap address, then serves until SIGINT or SIGTERM.
//
//   sluice-kafka-mock [--brokers N] [--topic NAME:PARTITIONS]...
//
// The mock keeps everything in memory and is not faithful for transactions (a read_uncommitted
// consumer sees no aborted records): prove exactly-once on a real broker (tools/kafka-broker).

#include <signal.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "sluice/operators/kafka_client.hpp"

namespace {

volatile std::sig_atomic_t stopping = 0;

void on_signal(int) {
  stopping = 1;
}

int usage(const std::string& problem) {
  std::cerr << "sluice-kafka-mock: " << problem << "\n"
            << "usage: sluice-kafka-mock [--brokers N] [--topic NAME:PARTITIONS]...\n";
  return 2;
}

/// A positive count from `text`, or 0 if it is not one.
int positive(const std::string& text) {
  char* end = nullptr;
  long n = std::strtol(text.c_str(), &end, 10);
  return (end && *end == '\0' && n > 0 && n < 100'000) ? static_cast<int>(n) : 0;
}

} // namespace

int main(int argc, char** argv) {
  int brokers = 1;
  std::vector<std::pair<std::string, int>> topics;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (i + 1 >= argc)
      return usage(arg + " needs a value");
    std::string value = argv[++i];
    if (arg == "--brokers") {
      brokers = positive(value);
      if (brokers == 0)
        return usage("--brokers takes a positive count, not '" + value + "'");
    } else if (arg == "--topic") {
      auto colon = value.rfind(':');
      int partitions = colon == std::string::npos ? 0 : positive(value.substr(colon + 1));
      if (colon == 0 || partitions == 0)
        return usage("--topic takes NAME:PARTITIONS, not '" + value + "'");
      topics.emplace_back(value.substr(0, colon), partitions);
    } else {
      return usage("unknown option " + arg);
    }
  }

  // Signals stay blocked except inside main's sigsuspend, so none is lost between check and
  // wait; blocked before librdkafka starts its threads, which inherit the mask.
  sigset_t blocked;
  sigset_t waiting;
  sigemptyset(&blocked);
  sigaddset(&blocked, SIGINT);
  sigaddset(&blocked, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &blocked, &waiting);

  std::unique_ptr<sluice::kafka::mock_cluster> cluster;
  try {
    cluster = std::make_unique<sluice::kafka::mock_cluster>(brokers);
    for (const auto& [name, partitions] : topics)
      cluster->create_topic(name, partitions);
  } catch (const sluice::kafka::kafka_error& e) {
    std::cerr << "sluice-kafka-mock: " << e.what() << "\n";
    return 1;
  }
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  std::cout << cluster->bootstrap() << std::endl;
  sigdelset(&waiting, SIGINT);
  sigdelset(&waiting, SIGTERM);
  while (!stopping)
    sigsuspend(&waiting);
  return 0;
}
