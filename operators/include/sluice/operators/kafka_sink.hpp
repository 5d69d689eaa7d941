#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "sluice/context.hpp"
#include "sluice/operator.hpp"
#include "sluice/operators/kafka_client.hpp"
#include "sluice/serde.hpp"

namespace sluice {

/// Where a kafka_sink writes, and how.
struct kafka_sink_options {
  std::string topic;
  /// librdkafka properties; `bootstrap.servers` is required. Sluice sets
  /// `enable.idempotence=true` unless given.
  kafka::properties properties;
  /// How long a full producer queue may block, and a flush wait for acknowledgements, before the
  /// sink fails.
  std::chrono::milliseconds timeout{30'000};
};

namespace op {

/// A sink that writes each record's value, encoded by `ValueSerde`, to a Kafka topic, with its
/// event time as the Kafka timestamp (none for records without one), at least once: every
/// record before a checkpoint's barrier is acknowledged by the brokers before the instance
/// takes the checkpoint, and everything at the end of the stream. A full producer queue is
/// backpressure; a message the brokers refuse fails the instance, naming the topic, partition
/// and error. (Exactly once, with Kafka transactions, is not built yet: see docs/kafka.md.)
template <serde ValueSerde = string_serde>
class kafka_sink {
public:
  using input_type = typename ValueSerde::value_type;
  using output_type = no_output;

  explicit kafka_sink(kafka_sink_options options, ValueSerde serde = {})
    : options_(std::move(options)), serde_(std::move(serde)) {}

  // Each instance makes its own producer: copies carry the options only.
  kafka_sink(const kafka_sink& other) : options_(other.options_), serde_(other.serde_) {}
  kafka_sink(kafka_sink&&) noexcept = default;

  void open(context<no_output>&) {
    producer_ =
      std::make_unique<kafka::producer>(options_.properties, options_.topic, options_.timeout);
  }

  void on_batch(std::vector<record<input_type>>& records, context<no_output>&) {
    for (const auto& r : records)
      producer_->send(serde_.encode(r.value), r.time);
  }

  void on_checkpoint(uint64_t, context<no_output>&) { producer_->flush(); }

  void on_end(context<no_output>&) { producer_->flush(); }

private:
  kafka_sink_options options_;
  ValueSerde serde_;
  std::unique_ptr<kafka::producer> producer_;
};

} // namespace op

/// A sink writing to Kafka topic `options.topic` (see op::kafka_sink).
template <serde ValueSerde = string_serde>
op::kafka_sink<ValueSerde> kafka_sink(kafka_sink_options options, ValueSerde serde = {}) {
  return op::kafka_sink<ValueSerde>{std::move(options), std::move(serde)};
}

} // namespace sluice
