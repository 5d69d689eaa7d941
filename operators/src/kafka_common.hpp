#pragma once

// What the librdkafka clients of operators/src share: their configuration, a topic's partition
// count, and which errors pass. Private to operators/src (it includes librdkafka).

#include <array>
#include <cstdint>
#include <string>

#include <librdkafka/rdkafka.h>

#include "sluice/operators/kafka_client.hpp"

namespace sluice::kafka::detail {

/// A librdkafka configuration holding `settings`. @throws kafka_error, in the words of
/// `client.where`, naming a property librdkafka rejects.
template <class Client>
rd_kafka_conf_t* configuration(const properties& settings, const Client& client) {
  std::array<char, 512> error{};
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  for (const auto& [key, value] : settings) {
    if (rd_kafka_conf_set(conf, key.c_str(), value.c_str(), error.data(), error.size())
        != RD_KAFKA_CONF_OK) {
      rd_kafka_conf_destroy(conf);
      throw kafka_error(client.where("property " + key + "=" + value + ": " + error.data()),
                        client.topic);
    }
  }
  return conf;
}

/// The partition count of `client.topic`. @throws kafka_error, in the words of `client.where`,
/// if the brokers do not answer within `client.timeout_ms` or do not have the topic.
template <class Client>
int32_t topic_partitions(const Client& client) {
  // All topics, not this one: a request naming a topic may create it on brokers that create
  // topics on first use, and a typo should fail rather than make a topic.
  const rd_kafka_metadata_t* metadata = nullptr;
  auto fail = [&](const std::string& what, rd_kafka_resp_err_t err) {
    throw kafka_error(client.where(what + ": " + rd_kafka_err2str(err)), client.topic);
  };
  if (auto err = rd_kafka_metadata(client.handle, 1, nullptr, &metadata, client.timeout_ms))
    fail("no metadata within " + std::to_string(client.timeout_ms) + " ms (are the brokers up?)",
         err);
  int32_t count = 0;
  rd_kafka_resp_err_t topic_err = RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART;
  for (int i = 0; i < metadata->topic_cnt; ++i) {
    if (client.topic == metadata->topics[i].topic) {
      topic_err = metadata->topics[i].err;
      count = metadata->topics[i].partition_cnt;
    }
  }
  rd_kafka_metadata_destroy(metadata);
  if (topic_err)
    fail("the topic is not there", topic_err);
  return count;
}

/// Whether a group coordinator error passes: a group's coordinator is being found or loaded, or
/// a transaction's offsets are being committed.
inline bool coordinator_busy(rd_kafka_resp_err_t err) {
  return err == RD_KAFKA_RESP_ERR_NOT_COORDINATOR
         || err == RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS
         || err == RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE
         || err == RD_KAFKA_RESP_ERR_UNSTABLE_OFFSET_COMMIT;
}

/// Whether a consume error is one librdkafka recovers from by itself: brokers that cannot be
/// reached for now, or a partition whose leader is moving. The source rides these out, as Kafka's
/// own consumers do, and reads on when the brokers are back; any other error fails it.
inline bool transient(rd_kafka_resp_err_t err) {
  switch (err) {
    case RD_KAFKA_RESP_ERR__TRANSPORT:
    case RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN:
    case RD_KAFKA_RESP_ERR__RESOLVE:
    case RD_KAFKA_RESP_ERR__TIMED_OUT:
    case RD_KAFKA_RESP_ERR__TIMED_OUT_QUEUE:
    case RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT:
    case RD_KAFKA_RESP_ERR_NETWORK_EXCEPTION:
    case RD_KAFKA_RESP_ERR_BROKER_NOT_AVAILABLE:
    case RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE:
    case RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION:
    case RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS:
      return true;
    default:
      return coordinator_busy(err);
  }
}

} // namespace sluice::kafka::detail
