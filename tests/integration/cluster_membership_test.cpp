// cluster::membership against a real Apache Kafka broker (tools/kafka-broker): nodes share the
// slots of a consumer group, agree on who runs which slot and where every node listens, keep
// their slots through a quick restart, and move as few slots as they must when a node comes or
// goes. Skipped, loudly, when the broker's prerequisites (Java 17+, Maven for the first fetch)
// are missing.

#include <catch2/catch.hpp>

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "sluice/cluster/membership.hpp"
#include "sluice/operators/kafka_group.hpp"

#include "support/kafka_support.hpp"
#include "support/test_support.hpp"

using namespace sluice;
using namespace std::chrono_literals;

namespace {

constexpr int32_t slots = 6;

/// A broker with a slots topic of `slots` partitions and a compacted members topic.
std::unique_ptr<test::kafka_broker> cluster_broker() {
  auto broker = test::kafka_broker::start_or_skip();
  if (broker) {
    broker->create_topic("p.slots", slots);
    broker->create_topic("p.members", 1, {"cleanup.policy=compact"});
  }
  return broker;
}

/// A node's membership, and what it was told.
struct node {
  node(const test::kafka_broker& broker, const std::string& node_name,
       std::chrono::milliseconds session_timeout = 3s)
    : name(node_name) {
    cluster::membership_options options;
    options.kafka = {{"bootstrap.servers", broker.bootstrap()}};
    options.group = "p";
    options.node = node_name;
    options.address = "127.0.0.1:" + std::to_string(7000 + node_name[0]);
    options.slots_topic = "p.slots";
    options.members_topic = "p.members";
    options.session_timeout = session_timeout;
    cluster::membership_events events;
    events.failed = [this](const std::string& error) {
      std::lock_guard lock{mutex};
      failure = error;
    };
    member = std::make_unique<cluster::membership>(options, events);
  }

  [[nodiscard]] std::string failed() {
    std::lock_guard lock{mutex};
    return failure;
  }

  std::string name;
  std::mutex mutex;
  std::string failure;
  std::unique_ptr<cluster::membership> member;
};

/// The slots of node `name` as `placement` has them.
std::set<int32_t> slots_of(const std::map<int32_t, std::string>& placement,
                           const std::string& name) {
  std::set<int32_t> owned;
  for (const auto& [slot, owner] : placement)
    if (owner == name)
      owned.insert(slot);
  return owned;
}

/// Whether every node's view has every slot placed, agrees with the others' views and with the
/// slots each node runs, and knows every node's address.
bool settled(const std::vector<node*>& nodes) {
  std::map<int32_t, std::string> placement;
  for (auto* n : nodes) {
    auto view = n->member->view();
    if (view.slot_count != slots || static_cast<int32_t>(view.slot_nodes.size()) != slots
        || view.addresses.size() != nodes.size())
      return false;
    if (placement.empty())
      placement = view.slot_nodes;
    if (view.slot_nodes != placement)
      return false;
  }
  for (auto* n : nodes) {
    auto own = n->member->view().own_slots;
    if (std::set<int32_t>(own.begin(), own.end()) != slots_of(placement, n->name))
      return false;
  }
  return true;
}

} // namespace

TEST_CASE("three nodes share out the slots and agree on who runs which and where each listens") {
  auto broker = cluster_broker();
  if (!broker)
    return;
  node a{*broker, "a"}, b{*broker, "b"}, c{*broker, "c"};
  REQUIRE(test::eventually([&] { return settled({&a, &b, &c}); }));
  auto view = a.member->view();
  for (auto* n : {&a, &b, &c})
    CHECK(n->member->view().own_slots.size() == 2); // the assignor balances
  CHECK(view.addresses
        == std::map<std::string, std::string>{
          {"a", "127.0.0.1:7097"}, {"b", "127.0.0.1:7098"}, {"c", "127.0.0.1:7099"}});
  CHECK(a.failed().empty());
}

TEST_CASE("a node restarted within its session timeout takes its slots back without a rebalance") {
  auto broker = cluster_broker();
  if (!broker)
    return;
  node a{*broker, "a", 10s};
  auto b = std::make_unique<node>(*broker, "b", 10s);
  REQUIRE(test::eventually([&] { return settled({&a, b.get()}); }));
  auto before = a.member->view();
  auto b_slots = b->member->view().own_slots;
  b.reset(); // as a crash: no leave
  b = std::make_unique<node>(*broker, "b", 10s);
  REQUIRE(test::eventually([&] { return b->member->view().own_slots == b_slots; }));
  auto after = a.member->view();
  CHECK(after.rebalances == before.rebalances);
  CHECK(after.own_slots == before.own_slots);
}

TEST_CASE("a lost node's slots move to the others when its session times out, and only those") {
  auto broker = cluster_broker();
  if (!broker)
    return;
  node a{*broker, "a"}, b{*broker, "b"};
  auto c = std::make_unique<node>(*broker, "c");
  REQUIRE(test::eventually([&] { return settled({&a, &b, c.get()}); }));
  auto before = a.member->view().slot_nodes;
  c.reset(); // as a crash: its slots stay its own until the session times out
  REQUIRE(test::eventually(
    [&] {
      auto view = a.member->view();
      return slots_of(view.slot_nodes, "c").empty() && view.slot_nodes.size() == slots;
    },
    60s));
  auto after = a.member->view().slot_nodes;
  for (const auto& [slot, owner] : before)
    if (owner != "c")
      CHECK(after.at(slot) == owner);
}

TEST_CASE("a node that joins takes some slots, and gives them back when it leaves") {
  auto broker = cluster_broker();
  if (!broker)
    return;
  node a{*broker, "a"}, b{*broker, "b"};
  REQUIRE(test::eventually([&] { return settled({&a, &b}); }));
  auto two = a.member->view().slot_nodes;
  auto d = std::make_unique<node>(*broker, "d");
  REQUIRE(test::eventually([&] {
    return settled({&a, &b, d.get()}) && !d->member->view().own_slots.empty();
  }));
  auto three = a.member->view().slot_nodes;
  for (const auto& [slot, owner] : three)
    if (owner != "d")
      CHECK(two.at(slot) == owner); // only slots that went to d moved
  d->member->leave();
  REQUIRE(test::eventually([&] {
    auto view = a.member->view();
    return view.addresses.size() == 2 && slots_of(view.slot_nodes, "d").empty()
           && view.slot_nodes.size() == slots;
  }));
  auto back = a.member->view().slot_nodes;
  for (const auto& [slot, owner] : three)
    if (owner != "d")
      CHECK(back.at(slot) == owner);
}

TEST_CASE("a second node with the same name fences the first, which stops") {
  auto broker = cluster_broker();
  if (!broker)
    return;
  node first{*broker, "a"};
  REQUIRE(test::eventually([&] { return !first.member->view().own_slots.empty(); }));
  node second{*broker, "a"};
  REQUIRE(test::eventually([&] { return !first.failed().empty(); }));
  CHECK_THAT(first.failed(), Catch::Contains("Kafka group 'p' (member 'a'"));
}

TEST_CASE("a membership refuses a missing topic and settings it makes itself") {
  auto broker = cluster_broker();
  if (!broker)
    return;
  cluster::membership_options options;
  options.kafka = {{"bootstrap.servers", broker->bootstrap()}};
  options.group = "p";
  options.node = "a";
  options.address = "127.0.0.1:7000";
  options.slots_topic = "p.slot";
  options.members_topic = "p.members";
  options.timeout = 5s;
  CHECK_THROWS_WITH(cluster::membership(options, {}),
                    Catch::Contains("topic 'p.slot'") && Catch::Contains("not there"));
  options.slots_topic = "p.slots";
  options.kafka["group.instance.id"] = "x";
  CHECK_THROWS_WITH(cluster::membership(options, {}),
                    Catch::Contains("group.instance.id is set by the group member itself"));
}
