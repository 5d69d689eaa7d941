#pragma once

// Which nodes a cluster has, where they listen and which slots each runs, learnt from Kafka
// (docs/cluster.md): the control plane of a pipeline that runs on several nodes.

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "sluice/operators/kafka_client.hpp"

namespace sluice::cluster {

/// The cluster as one node last saw it.
struct cluster_view {
  /// The slots this node runs, ascending.
  std::vector<int32_t> own_slots;
  /// The node of each slot, as the group's coordinator assigned them when the group was last
  /// stable; a slot between two nodes is missing.
  std::map<int32_t, std::string> slot_nodes;
  /// Each node's address (host:port), as the node published it on the members topic.
  std::map<std::string, std::string> addresses;
  /// The partitions of the slots topic.
  int32_t slot_count = 0;
  /// How many rebalances of the group this node has taken part in.
  uint64_t rebalances = 0;

  friend bool operator==(const cluster_view&, const cluster_view&) = default;
};

/// Where a node finds its cluster.
struct membership_options {
  /// How to reach the brokers: `bootstrap.servers`, and any security settings.
  kafka::properties kafka;
  /// The consumer group of the cluster's nodes: one per pipeline.
  std::string group;
  /// This node's name: unique in the cluster, and the same when the node restarts.
  std::string node;
  /// Where this node listens for the other nodes (host:port).
  std::string address;
  /// The topic whose partitions are the slots.
  std::string slots_topic;
  /// The compacted topic of node addresses: key the node's name, value its address.
  std::string members_topic;
  /// How long the group waits for a node that stopped answering before moving its slots.
  std::chrono::milliseconds session_timeout{10'000};
  /// How long a request to the brokers may take.
  std::chrono::milliseconds timeout{10'000};
};

/// What a membership tells its node, on the membership's own thread. Both must return soon.
struct membership_events {
  /// The view changed: a rebalance completed, or a node published its address.
  std::function<void(const cluster_view&)> view_changed;
  /// The membership failed and stopped: the node was fenced (another node took its name), or
  /// Kafka failed otherwise. The message names the group, node and topic.
  std::function<void(const std::string&)> failed;
};

/// A node's membership of its cluster. The node is a static member (KIP-345) of the group,
/// subscribed to the slots topic with the cooperative-sticky assignor; the slot partitions the
/// group assigns it are the slots it runs. It publishes its address under its name on the
/// members topic and reads everyone's from there. A thread of its own serves the group and
/// reads the addresses, and tells the node of every change.
///
/// The slots topic needs at least twice as many partitions as there are nodes: librdkafka
/// 2.0.2's cooperative-sticky assignor misbehaves with fewer partitions than members.
class membership {
public:
  /// Joins the cluster and publishes this node's address.
  /// @throws kafka_error if the brokers cannot be reached or a topic is missing.
  membership(membership_options options, membership_events events);
  /// Stops as a crash would: the group keeps this node's slots until its session times out, so
  /// a restart within it takes them back without a rebalance.
  ~membership();

  membership(const membership&) = delete;
  membership& operator=(const membership&) = delete;

  /// The view as last told.
  [[nodiscard]] cluster_view view() const;

  /// Leaves the cluster for good: removes this node's address, and its slots move to the
  /// other nodes at once. @throws kafka_error if Kafka does not take the leave in time.
  void leave();

private:
  struct state;
  std::unique_ptr<state> state_;
};

} // namespace sluice::cluster
