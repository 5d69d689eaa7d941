#pragma once

// A member of a Kafka consumer group that reads nothing: how the nodes of a cluster share out
// slots (docs/cluster.md). Without librdkafka in the interface.

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "sluice/operators/kafka_client.hpp"

namespace sluice::kafka {

/// One member of a group as the group's coordinator has it.
struct group_member_info {
  /// The member's `client.id`: a group_member's instance id.
  std::string client_id;
  /// The partitions of the subscribed topic assigned to it, ascending.
  std::vector<int32_t> partitions;

  friend bool operator==(const group_member_info&, const group_member_info&) = default;
};

/// A static member (KIP-345: `group.instance.id`) of consumer group `group`, subscribed to
/// `topic` with the cooperative-sticky assignor, that never reads a message: what it gets from
/// the group is its share of the topic's partitions, which moves as members come and go, and no
/// more than it must.
///
/// A static member that stops without leaving (destroyed, or its process killed) keeps its
/// partitions until its session times out: a member with the same instance id that joins before
/// then gets them back without a rebalance. `leave` gives them up at once. A second member with
/// the same instance id fences the first, whose next `poll` throws.
///
/// One thread calls everything: `poll` serves the group protocol, at least every
/// `max.poll.interval.ms` (5 min by default).
class group_member {
public:
  /// Starts joining. `config` says where the brokers are and how to reach them; the group's
  /// own settings (`group.id`, `group.instance.id`, `client.id`, the assignor) are not
  /// accepted there. `timeout` bounds each request to the brokers.
  /// @throws kafka_error on a property librdkafka rejects or one the member sets itself,
  /// brokers that do not answer within `timeout`, or a topic they do not have.
  group_member(const properties& config, std::string group, std::string instance_id,
               std::string topic, std::chrono::milliseconds timeout);
  /// Stops as a crash would: the group keeps the member's partitions for it until its session
  /// times out.
  ~group_member();

  group_member(const group_member&) = delete;
  group_member& operator=(const group_member&) = delete;

  /// Serves the group protocol for up to `wait` (less when a rebalance completes). Returns
  /// whether a rebalance completed since the last call, whether or not it moved this member's
  /// partitions. @throws kafka_error if the member was fenced or the group failed otherwise.
  bool poll(std::chrono::milliseconds wait);

  /// The partitions assigned to this member now, ascending.
  [[nodiscard]] const std::vector<int32_t>& partitions() const noexcept;

  /// How many rebalances this member has completed.
  [[nodiscard]] uint64_t rebalances() const noexcept;

  /// The group's members and their partitions as its coordinator has them, ordered by client
  /// id; nothing while the group rebalances. @throws kafka_error if the coordinator cannot be
  /// asked within the timeout.
  [[nodiscard]] std::optional<std::vector<group_member_info>> describe();

  /// Leaves the group: the member's partitions are revoked, and the group rebalances them over
  /// the other members at once. Nothing else is to be called after it. @throws kafka_error if
  /// the partitions are not revoked within the timeout.
  void leave();

  /// The topic's partition count. @throws kafka_error as the constructor.
  [[nodiscard]] int32_t partition_count();

private:
  struct client;
  std::unique_ptr<client> client_;
};

} // namespace sluice::kafka
