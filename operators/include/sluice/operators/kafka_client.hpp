#pragma once

// The librdkafka consumer behind kafka_source, without librdkafka in the interface.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "sluice/record.hpp"

namespace sluice::kafka {

/// librdkafka configuration properties ("bootstrap.servers", "group.id", ...), passed through.
using properties = std::map<std::string, std::string>;

/// Kafka could not be reached, or refused or failed a request: the message names the topic,
/// the brokers and librdkafka's error.
class kafka_error : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

/// A message as read; the bytes are valid only during the callback that receives it.
struct message_view {
  int32_t partition = 0;
  int64_t offset = 0;
  /// Kafka's timestamp (create or log-append time) in ms, or `min_timestamp` if it has none.
  timestamp time = min_timestamp;
  std::string_view value;
};

/// A consumer of one topic's partitions, assigned by the caller (no group rebalancing). It
/// never blocks in `poll`: librdkafka fetches on its own threads, and `poll` takes what they
/// fetched so far.
class consumer {
public:
  /// Creates the client. @throws kafka_error on a property librdkafka rejects (naming it).
  consumer(const properties& config, std::string topic, std::chrono::milliseconds timeout);
  ~consumer();

  consumer(const consumer&) = delete;
  consumer& operator=(const consumer&) = delete;

  /// The topic's partition count. @throws kafka_error if the brokers do not answer within the
  /// timeout or do not have the topic.
  int32_t partition_count();

  /// Where reading `partition` starts without a checkpoint: the group's committed offset, else
  /// the earliest or latest offset as `auto.offset.reset` says (earliest by default).
  int64_t start_offset(int32_t partition);

  /// The offset after the partition's last message now (its high watermark).
  int64_t end_offset(int32_t partition);

  /// Reads each partition from its offset.
  void assign(const std::vector<std::pair<int32_t, int64_t>>& offsets);

  /// Stops fetching the assigned partitions (what was fetched stays), or fetches again.
  void pause(bool paused);

  /// Commits each partition's offset to the consumer group, without waiting for the answer
  /// (a later commit supersedes a lost one).
  void commit(const std::vector<std::pair<int32_t, int64_t>>& offsets);

  /// Hands up to `max` fetched messages to `on_message`, and each partition's end reached
  /// (as its end offset) to `on_end`; returns the messages handed.
  /// @throws kafka_error on a consume error, naming the partition.
  size_t poll(size_t max, const std::function<void(const message_view&)>& on_message,
              const std::function<void(int32_t partition, int64_t end)>& on_end);

private:
  struct client;
  /// The partitions assigned, for pause and resume.
  std::vector<int32_t> assigned_;
  std::unique_ptr<client> client_;
};

/// An idempotent producer to one topic. Sends never wait for the brokers, except while
/// librdkafka's queue is full (backpressure); a message the brokers did not take is reported by
/// the next call.
class producer {
public:
  /// Creates the client. @throws kafka_error on a property librdkafka rejects (naming it).
  producer(const properties& config, std::string topic, std::chrono::milliseconds timeout);
  ~producer();

  producer(const producer&) = delete;
  producer& operator=(const producer&) = delete;

  /// Queues `value` with Kafka timestamp `time` (none for `min_timestamp`).
  /// @throws kafka_error if an earlier message failed, or the queue stayed full for the timeout.
  void send(std::string_view value, timestamp time);

  /// Waits until every message sent is acknowledged.
  /// @throws kafka_error if one failed, or the timeout passed first.
  void flush();

private:
  struct client;
  std::unique_ptr<client> client_;
};

} // namespace sluice::kafka
