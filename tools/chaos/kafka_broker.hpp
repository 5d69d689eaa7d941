#pragma once

// The Kafka broker the chaos runs with the Kafka sink write to: a real one (tools/kafka-broker),
// since librdkafka's mock cluster is not faithful for transactions (its read_committed consumers
// see what aborted transactions wrote).

#include <memory>
#include <string>

namespace chaos {

/// A single-node broker started by tools/kafka-broker in a temporary directory, stopped when this
/// goes.
class kafka_broker {
public:
  /// Starts a broker. Returns null, with the reason in `why_not`, when it cannot (no Java, or no
  /// jars and no network to fetch them: then runs with the Kafka sink are skipped).
  static std::unique_ptr<kafka_broker> start(std::string& why_not);

  ~kafka_broker();
  kafka_broker(const kafka_broker&) = delete;
  kafka_broker& operator=(const kafka_broker&) = delete;

  [[nodiscard]] const std::string& bootstrap() const noexcept { return bootstrap_; }

  /// Creates a fresh topic for one run. @throws std::runtime_error with the tool's output.
  void create_topic(const std::string& name, int partitions);

private:
  kafka_broker() = default;

  std::string dir_;
  std::string bootstrap_;
};

} // namespace chaos
