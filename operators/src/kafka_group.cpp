#include "sluice/operators/kafka_group.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <string>
#include <string_view>
#include <utility>

#include <librdkafka/rdkafka.h>

#include "kafka_common.hpp"

namespace sluice::kafka {

namespace {

/// The settings a group member makes itself, which its caller may not.
constexpr std::array<std::string_view, 4> own_settings{"group.id", "group.instance.id", "client.id",
                                                       "partition.assignment.strategy"};

/// Reads Kafka's consumer protocol assignment (ConsumerProtocolAssignment, versions 0 to 3: a
/// version, then per topic its name and partitions, big-endian) and returns the partitions of
/// `topic`, ascending; nothing if the bytes do not parse.
std::optional<std::vector<int32_t>> assigned_partitions(const void* data, size_t size,
                                                        const std::string& topic) {
  const auto* bytes = static_cast<const unsigned char*>(data);
  size_t at = 0;
  auto read = [&](size_t n, uint64_t& value) {
    if (size - at < n)
      return false;
    value = 0;
    for (size_t i = 0; i < n; ++i)
      value = (value << 8) | bytes[at++];
    return true;
  };
  std::vector<int32_t> partitions;
  uint64_t version = 0;
  uint64_t topics = 0;
  if (size == 0)
    return partitions; // a member the leader has not assigned yet
  if (!read(2, version) || !read(4, topics))
    return std::nullopt;
  for (uint64_t t = 0; t < topics; ++t) {
    uint64_t length = 0;
    uint64_t count = 0;
    if (!read(2, length) || size - at < length)
      return std::nullopt;
    std::string_view name{reinterpret_cast<const char*>(bytes + at), length};
    at += length;
    if (!read(4, count))
      return std::nullopt;
    for (uint64_t p = 0; p < count; ++p) {
      uint64_t partition = 0;
      if (!read(4, partition))
        return std::nullopt;
      if (name == topic)
        partitions.push_back(static_cast<int32_t>(partition));
    }
  }
  std::sort(partitions.begin(), partitions.end());
  return partitions;
}

} // namespace

struct group_member::client {
  rd_kafka_t* handle = nullptr;
  std::string topic;
  std::string brokers;
  std::string group;
  std::string instance_id;
  int timeout_ms = 0;
  std::vector<int32_t> partitions;
  uint64_t rebalances = 0;
  bool rebalanced = false;
  /// What went wrong in the rebalance callback, thrown by the `poll` that served it.
  std::string failure;
  /// Closed by `leave` or the destructor.
  bool closed = false;

  /// A static member closed stays in the group (no LeaveGroup) until its session times out, as
  /// after a crash. Closed first because librdkafka 2.0.2's destroy of an unclosed consumer
  /// can wait forever for a rebalance callback nobody serves (seen in the membership tests);
  /// but not before its first rebalance, whose close fails an assertion (librdkafka issue 4312).
  ~client() {
    if (!handle)
      return;
    if (!closed && rebalances > 0)
      close_within(std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms));
    rd_kafka_destroy_flags(handle, closed ? 0 : RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
  }

  /// Closes the consumer, serving its rebalance callbacks meanwhile, until `deadline`; sets
  /// `closed` if it closed. A blocking close could wait forever (librdkafka issue 4527).
  void close_within(std::chrono::steady_clock::time_point deadline) {
    rd_kafka_queue_t* queue = rd_kafka_queue_new(handle);
    if (rd_kafka_error_t* error = rd_kafka_consumer_close_queue(handle, queue)) {
      rd_kafka_error_destroy(error);
    } else {
      while (!rd_kafka_consumer_closed(handle) && std::chrono::steady_clock::now() < deadline)
        rd_kafka_queue_poll_callback(queue, 50);
      closed = rd_kafka_consumer_closed(handle) != 0;
    }
    rd_kafka_queue_destroy(queue);
  }

  /// "Kafka group 'G' (member 'M', topic 'T') on B: what", the form of every error.
  [[nodiscard]] std::string where(const std::string& what) const {
    return "Kafka group '" + group + "' (member '" + instance_id + "', topic '" + topic + "') on "
           + brokers + ": " + what;
  }

  [[noreturn]] void fail(const std::string& what) const { throw kafka_error(where(what), topic); }

  /// Takes or gives up the partitions of a rebalance. Runs inside `poll`.
  static void on_rebalance(rd_kafka_t* handle, rd_kafka_resp_err_t err,
                           rd_kafka_topic_partition_list_t* list, void* opaque) {
    auto* self = static_cast<client*>(opaque);
    rd_kafka_error_t* error = nullptr;
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
      error = rd_kafka_incremental_assign(handle, list);
      for (int i = 0; i < list->cnt; ++i)
        self->partitions.push_back(list->elems[i].partition);
      std::sort(self->partitions.begin(), self->partitions.end());
      // Every rebalance ends with an assignment, empty when nothing new came.
      ++self->rebalances;
      self->rebalanced = true;
    } else if (err == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS) {
      error = rd_kafka_incremental_unassign(handle, list);
      for (int i = 0; i < list->cnt; ++i)
        std::erase(self->partitions, list->elems[i].partition);
    } else if (self->failure.empty()) {
      self->failure = std::string{"rebalance failed: "} + rd_kafka_err2str(err);
    }
    if (error) {
      if (self->failure.empty())
        self->failure =
          std::string{"cannot take the partitions of a rebalance: "} + rd_kafka_error_string(error);
      rd_kafka_error_destroy(error);
    }
  }
};

group_member::group_member(const properties& config, std::string group, std::string instance_id,
                           std::string topic, std::chrono::milliseconds timeout)
  : client_(std::make_unique<client>()) {
  auto& c = *client_;
  c.topic = std::move(topic);
  c.group = std::move(group);
  c.instance_id = std::move(instance_id);
  c.timeout_ms = static_cast<int>(timeout.count());
  c.brokers = config.contains("bootstrap.servers") ? config.at("bootstrap.servers") : "";
  if (c.brokers.empty())
    c.fail("no bootstrap.servers given");
  if (c.group.empty() || c.instance_id.empty())
    c.fail("a group member needs a group and an instance id");
  for (auto own : own_settings)
    if (config.contains(std::string{own}))
      c.fail("property " + std::string{own} + " is set by the group member itself");
  properties settings{{"enable.auto.commit", "false"}, {"enable.auto.offset.store", "false"}};
  for (const auto& [key, value] : config)
    settings[key] = value;
  settings["group.id"] = c.group;
  settings["group.instance.id"] = c.instance_id;
  // Unique per member: librdkafka 2.0.2's sticky assignor can loop forever over members that
  // share a client.id (librdkafka issue 4783), and describe() names members by it.
  settings["client.id"] = c.instance_id;
  settings["partition.assignment.strategy"] = "cooperative-sticky";
  std::array<char, 512> error{};
  rd_kafka_conf_t* conf = detail::configuration(settings, c);
  rd_kafka_conf_set_rebalance_cb(conf, &client::on_rebalance);
  rd_kafka_conf_set_opaque(conf, &c);
  c.handle = rd_kafka_new(RD_KAFKA_CONSUMER, conf, error.data(), error.size());
  if (!c.handle) {
    rd_kafka_conf_destroy(conf);
    c.fail(std::string{"cannot create a consumer: "} + error.data());
  }
  rd_kafka_poll_set_consumer(c.handle);
  // A missing topic fails here, clearly, rather than as a member that never gets partitions.
  detail::topic_partitions(c);
  rd_kafka_topic_partition_list_t* topics = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(topics, c.topic.c_str(), RD_KAFKA_PARTITION_UA);
  auto err = rd_kafka_subscribe(c.handle, topics);
  rd_kafka_topic_partition_list_destroy(topics);
  if (err)
    c.fail(std::string{"cannot subscribe: "} + rd_kafka_err2str(err));
}

group_member::~group_member() = default;

bool group_member::poll(std::chrono::milliseconds wait) {
  auto& c = *client_;
  auto deadline = std::chrono::steady_clock::now() + wait;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
    rd_kafka_message_t* m =
      rd_kafka_consumer_poll(c.handle, static_cast<int>(std::max<int64_t>(left.count(), 0)));
    if (m) {
      auto err = m->err;
      rd_kafka_message_destroy(m); // the slots topic carries no messages worth reading
      if (err == RD_KAFKA_RESP_ERR__FATAL) {
        std::array<char, 512> reason{};
        rd_kafka_fatal_error(c.handle, reason.data(), reason.size());
        c.fail(std::string{"the member failed (was another member given its instance id?): "}
               + reason.data());
      }
      if (err && err != RD_KAFKA_RESP_ERR__PARTITION_EOF && !detail::transient(err))
        c.fail(std::string{"the group failed: "} + rd_kafka_err2str(err));
    }
    if (!c.failure.empty())
      c.fail(c.failure);
    if (c.rebalanced || std::chrono::steady_clock::now() >= deadline)
      break;
  }
  return std::exchange(c.rebalanced, false);
}

const std::vector<int32_t>& group_member::partitions() const noexcept {
  return client_->partitions;
}

uint64_t group_member::rebalances() const noexcept {
  return client_->rebalances;
}

std::optional<std::vector<group_member_info>> group_member::describe() {
  auto& c = *client_;
  const rd_kafka_group_list* list = nullptr;
  if (auto err = rd_kafka_list_groups(c.handle, c.group.c_str(), &list, c.timeout_ms))
    c.fail("cannot describe the group within " + std::to_string(c.timeout_ms)
           + " ms: " + rd_kafka_err2str(err));
  std::optional<std::vector<group_member_info>> members;
  std::string malformed;
  for (int g = 0; g < list->group_cnt; ++g) {
    const auto& group = list->groups[g];
    if (c.group != group.group || group.err || std::string_view{group.state} != "Stable")
      continue;
    members.emplace();
    for (int i = 0; i < group.member_cnt; ++i) {
      const auto& member = group.members[i];
      auto partitions =
        assigned_partitions(member.member_assignment, member.member_assignment_size, c.topic);
      if (!partitions) {
        malformed = member.client_id;
        break;
      }
      members->push_back(group_member_info{member.client_id, std::move(*partitions)});
    }
  }
  rd_kafka_group_list_destroy(list);
  if (!malformed.empty())
    c.fail("cannot read the assignment of member '" + malformed + "'");
  if (members)
    std::sort(members->begin(), members->end(),
              [](const auto& a, const auto& b) { return a.client_id < b.client_id; });
  return members;
}

void group_member::leave() {
  auto& c = *client_;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(c.timeout_ms);
  // librdkafka 2.0.2's sticky assignor fails an assertion when a member that never completed a
  // rebalance leaves (librdkafka issue 4312): join first.
  while (c.rebalances == 0) {
    if (std::chrono::steady_clock::now() >= deadline)
      c.fail("the member did not join within " + std::to_string(c.timeout_ms) + " ms");
    poll(std::chrono::milliseconds{50});
  }
  if (auto err = rd_kafka_unsubscribe(c.handle))
    c.fail(std::string{"cannot unsubscribe: "} + rd_kafka_err2str(err));
  while (!c.partitions.empty()) {
    if (std::chrono::steady_clock::now() >= deadline)
      c.fail("the partitions were not revoked within " + std::to_string(c.timeout_ms) + " ms");
    poll(std::chrono::milliseconds{50});
  }
  // Nothing is assigned any more, so closing should not meet an assignment on its way
  // (librdkafka issue 4527); the close sends the LeaveGroup that the unsubscribe asked for.
  c.close_within(deadline);
  if (!c.closed)
    c.fail("the consumer did not close within " + std::to_string(c.timeout_ms) + " ms");
}

int32_t group_member::partition_count() {
  return detail::topic_partitions(*client_);
}

} // namespace sluice::kafka
