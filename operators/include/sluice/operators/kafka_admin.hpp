#pragma once

// Topics a job needs, created when the brokers do not have them yet, as Kafka Streams creates
// its internal topics.

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "sluice/operators/kafka_client.hpp"

namespace sluice::kafka {

/// A topic as it is created when missing; a topic that exists is left as it is.
struct topic_spec {
  std::string name;
  int32_t partitions = 1;
  /// Topic configs, e.g. {"cleanup.policy", "compact"}.
  properties configs;
};

/// Creates those of `topics` the brokers do not have (with the brokers' default replication
/// factor), and returns each topic's partition count, in order, created or found: a topic that
/// exists already, made by hand or by another node at the same moment, counts as found.
/// @throws kafka_error naming the topic and the brokers if a topic can be neither found nor
/// created within `timeout`, or a setting of `config` or `topics` is refused.
std::vector<int32_t> ensure_topics(const properties& config, const std::vector<topic_spec>& topics,
                                   std::chrono::milliseconds timeout);

} // namespace sluice::kafka
