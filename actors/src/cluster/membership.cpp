#include "sluice/cluster/membership.hpp"

#include <algorithm>
#include <atomic>
#include <exception>
#include <future>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>

#include <boost/json.hpp>

#include "sluice/operators/kafka_group.hpp"

namespace sluice::cluster {

namespace {

/// How long the membership thread waits for the group at a time: how soon it notices a leave
/// or a stop, and how often it reads the members topic.
constexpr std::chrono::milliseconds poll_interval{100};
/// How often the group's assignment is asked for when nothing says it changed: a rebalance
/// among the other nodes reaches this one through a rebalance of its own, so this is a safety
/// net only.
constexpr std::chrono::milliseconds describe_interval{2000};
/// How soon to ask again while the group rebalances.
constexpr std::chrono::milliseconds describe_retry{100};

/// The offset a reader of a whole topic starts at: librdkafka's RD_KAFKA_OFFSET_BEGINNING.
constexpr int64_t beginning = -2;

/// The members topic's value for a node at `address`.
std::string member_record(const std::string& address) {
  return boost::json::serialize(boost::json::object{{"address", address}});
}

/// The address in a members topic value, or nothing if it has none.
std::optional<std::string> address_of(std::string_view value) {
  boost::system::error_code ec;
  auto parsed = boost::json::parse(value, ec);
  if (ec || !parsed.is_object())
    return std::nullopt;
  const auto* address = parsed.as_object().if_contains("address");
  if (!address || !address->is_string())
    return std::nullopt;
  return std::string{address->as_string()};
}

} // namespace

struct membership::state {
  membership_options options;
  membership_events events;
  std::unique_ptr<kafka::group_member> group;
  std::unique_ptr<kafka::consumer> members;
  std::unique_ptr<kafka::producer> publisher;

  mutable std::mutex mutex;
  cluster_view view;

  std::atomic<bool> stopping{false};
  std::atomic<bool> leaving{false};
  std::promise<void> left;
  std::thread thread;

  /// Serves the group and reads the addresses until stopped, left or failed.
  void run() {
    auto next_describe = std::chrono::steady_clock::now();
    cluster_view current;
    try {
      current.slot_count = group->partition_count();
      while (!stopping) {
        if (group->poll(poll_interval))
          next_describe = std::chrono::steady_clock::now();
        current.own_slots = group->partitions();
        current.rebalances = group->rebalances();
        read_addresses(current);
        if (std::chrono::steady_clock::now() >= next_describe)
          next_describe = std::chrono::steady_clock::now()
                          + (describe(current) ? describe_interval : describe_retry);
        publish(current);
        if (leaving) {
          publisher->send(options.node, true, std::nullopt, min_timestamp);
          publisher->flush();
          group->leave();
          left.set_value();
          return;
        }
      }
    } catch (const std::exception& e) {
      left.set_exception(std::current_exception()); // for a leave, now or later
      if (events.failed)
        events.failed(e.what());
    }
  }

  void read_addresses(cluster_view& current) {
    members->poll(
      1024,
      [&](const kafka::message_view& m) {
        std::string node{m.key};
        auto address = m.tombstone ? std::nullopt : address_of(m.value);
        if (address)
          current.addresses[node] = *address;
        else
          current.addresses.erase(node);
      },
      [](int32_t, int64_t) {});
  }

  /// Asks the group's coordinator who has which slot; false while the group rebalances.
  bool describe(cluster_view& current) {
    auto described = group->describe();
    if (!described)
      return false;
    current.slot_nodes.clear();
    for (const auto& member : *described)
      for (auto slot : member.partitions)
        current.slot_nodes[slot] = member.client_id;
    return true;
  }

  void publish(const cluster_view& current) {
    {
      std::lock_guard lock{mutex};
      if (view == current)
        return;
      view = current;
    }
    if (events.view_changed)
      events.view_changed(current);
  }
};

membership::membership(membership_options options, membership_events events)
  : state_(std::make_unique<state>()) {
  auto& s = *state_;
  s.options = std::move(options);
  s.events = std::move(events);
  const auto& o = s.options;
  auto member = o.kafka;
  member["session.timeout.ms"] = std::to_string(o.session_timeout.count());
  member["heartbeat.interval.ms"] =
    std::to_string(std::max<int64_t>(o.session_timeout.count() / 3, 1));
  s.group =
    std::make_unique<kafka::group_member>(member, o.group, o.node, o.slots_topic, o.timeout);
  auto reader = o.kafka;
  reader["group.id"] = o.group + ".members";
  s.members = std::make_unique<kafka::consumer>(reader, o.members_topic, o.timeout);
  std::vector<std::pair<int32_t, int64_t>> from_beginning;
  for (int32_t p = 0, n = s.members->partition_count(); p < n; ++p)
    from_beginning.emplace_back(p, beginning);
  s.members->assign(from_beginning);
  s.publisher = std::make_unique<kafka::producer>(o.kafka, o.members_topic, o.timeout);
  s.publisher->send(o.node, true, member_record(o.address), min_timestamp);
  s.publisher->flush();
  s.thread = std::thread{[&s] { s.run(); }};
}

membership::~membership() {
  state_->stopping = true;
  state_->thread.join();
}

cluster_view membership::view() const {
  std::lock_guard lock{state_->mutex};
  return state_->view;
}

void membership::leave() {
  auto done = state_->left.get_future();
  state_->leaving = true;
  done.get();
}

} // namespace sluice::cluster
