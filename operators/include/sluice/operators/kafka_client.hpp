#pragma once

// The librdkafka consumer behind kafka_source, without librdkafka in the interface.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "sluice/error.hpp"
#include "sluice/record.hpp"

namespace sluice::kafka {

/// librdkafka configuration properties ("bootstrap.servers", "group.id", ...), passed through.
using properties = std::map<std::string, std::string>;

/// Kafka could not be reached, or refused or failed a request: the message names the topic,
/// the brokers and librdkafka's error.
class kafka_error : public failure {
public:
  explicit kafka_error(const std::string& message, std::string topic = {})
    : failure(errc::kafka, message, std::move(topic)) {}
};

/// A message as read; the bytes are valid only during the callback that receives it.
struct message_view {
  int32_t partition = 0;
  int64_t offset = 0;
  /// Kafka's timestamp (create or log-append time) in ms, or `min_timestamp` if it has none.
  timestamp time = min_timestamp;
  /// The message's key; empty for a message without one.
  std::string_view key;
  std::string_view value;
  /// The message has no value at all (a null payload, not an empty one): a tombstone, which
  /// deletes its key from a compacted topic.
  bool tombstone = false;
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

  /// Commits each partition's offset to the consumer group, without waiting for the answer (a
  /// later commit supersedes a lost one), or with `wait` until the group has it: a consumer's
  /// last commit, which nothing supersedes and which closing it could otherwise drop.
  /// @throws kafka_error naming the topic if a commit is refused (or, waiting, fails).
  void commit(const std::vector<std::pair<int32_t, int64_t>>& offsets, bool wait = false);

  /// Hands up to `max` fetched messages to `on_message`, and each partition's end reached
  /// (as its end offset) to `on_end`; returns the messages handed.
  /// Errors librdkafka recovers from by itself (brokers down for now, a leader moving) pass.
  /// @throws kafka_error on any other consume error, naming the partition.
  size_t poll(size_t max, const std::function<void(const message_view&)>& on_message,
              const std::function<void(int32_t partition, int64_t end)>& on_end);

private:
  struct client;
  std::unique_ptr<client> client_;
};

/// An idempotent producer to one topic. Sends never wait for the brokers, except while
/// librdkafka's queue is full (backpressure); a message the brokers did not take is reported by
/// the next call.
///
/// With a `transactional.id` among the properties it is a transactional producer: `commit`
/// writes messages in one Kafka transaction together with a progress mark, a number the
/// transaction stores atomically with them (as the offset that a consumer group named after
/// the transactional id committed for partition 0 of the topic), and `committed_progress`
/// reads it back. Creating the producer fences any earlier producer with the same id and
/// aborts the transaction it left open.
class producer {
public:
  /// Creates the client, checks that the brokers have the topic, and, transactional,
  /// initializes its transactions.
  /// @throws kafka_error on a property librdkafka rejects (naming it), brokers that do not
  /// answer within the timeout, or a topic they do not have.
  producer(const properties& config, std::string topic, std::chrono::milliseconds timeout);
  ~producer();

  producer(const producer&) = delete;
  producer& operator=(const producer&) = delete;

  /// Queues a message with `value` (none: a tombstone), `key` (none when `keyed` is false) and
  /// Kafka timestamp `time` (none for `min_timestamp`).
  /// @throws kafka_error if an earlier message failed, or the queue stayed full for the timeout.
  void send(std::string_view key, bool keyed, std::optional<std::string_view> value,
            timestamp time);

  /// Waits until every message sent is acknowledged.
  /// @throws kafka_error if one failed, or the timeout passed first.
  void flush();

  /// Transactional only: calls `write` (which sends) inside one transaction that also stores
  /// `progress`, and commits it. @throws kafka_error if the transaction cannot be committed
  /// (it is aborted then), naming the topic and the transactional id.
  void commit(uint64_t progress, const std::function<void()>& write);

  /// Transactional only: the progress mark of the last committed transaction (0 for none).
  /// @throws kafka_error if it cannot be read within the timeout.
  uint64_t committed_progress();

private:
  struct client;
  std::unique_ptr<client> client_;
};

/// librdkafka's mock Kafka cluster, in this process: the embedded default where no broker is
/// given (demos, fast tests). It keeps everything in memory and serves the Kafka protocol on
/// 127.0.0.1 to any client, until it is destroyed. It is not faithful for transactions: prove
/// exactly-once on a real broker (tools/kafka-broker).
class mock_cluster {
public:
  /// Starts a cluster of `brokers` brokers. @throws kafka_error if it cannot.
  explicit mock_cluster(int brokers = 1);
  ~mock_cluster();

  mock_cluster(const mock_cluster&) = delete;
  mock_cluster& operator=(const mock_cluster&) = delete;

  /// The cluster's bootstrap.servers.
  [[nodiscard]] const std::string& bootstrap() const noexcept;

  /// Creates `topic` with `partitions` partitions. @throws kafka_error if it cannot.
  void create_topic(const std::string& topic, int partitions);

private:
  struct cluster;
  std::unique_ptr<cluster> cluster_;
};

} // namespace sluice::kafka
