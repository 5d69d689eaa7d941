// Tables and Kafka topics:
//   topic users (upserts and tombstones) --kafka_table--> to_stream --> collect
//   changes --to_table--> write_to_kafka --> topic (then read back, raw and as a table)
// on librdkafka's mock cluster at parallelism 1, 2 and 4, and on a real broker: a table written
// exactly once to a compacted topic reads back the same after the log cleaner compacted it.

#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "sluice/operators/kafka_table.hpp"

#include "support/changelog_check.hpp"
#include "support/kafka_support.hpp"
#include "support/test_support.hpp"

using namespace sluice;
using namespace std::chrono_literals;

namespace {

using user_change = std::pair<std::string, std::optional<std::string>>;
using users_changelog = std::vector<table_change<std::string, std::string>>;

constexpr int partitions = 3;
constexpr int changes = 3000;

/// Change `i` of the users over 150 keys: a city; now and then none (a tombstone, which deletes
/// the user) or an empty value (which does not).
user_change change(int i) {
  auto user = "u" + std::to_string((i * 7919) % 150);
  if (i % 9 == 4)
    return {user, std::nullopt};
  if (i % 13 == 6)
    return {user, std::string{}};
  return {user, "c" + std::to_string(i % 17)};
}

/// The partition of a user's messages, as a producer hashing the key would pick one.
int partition_of(const std::string& user) {
  return std::stoi(user.substr(1)) % partitions;
}

/// The users after the first `n` changes.
std::map<std::string, std::string> users_after(int n) {
  std::map<std::string, std::string> users;
  for (int i = 0; i < n; ++i) {
    auto [user, city] = change(i);
    if (city)
      users[user] = *city;
    else
      users.erase(user);
  }
  return users;
}

kafka_source_options reading(const std::string& bootstrap, const std::string& topic) {
  kafka_source_options options;
  options.topic = topic;
  options.properties = {{"bootstrap.servers", bootstrap}, {"group.id", topic + "-reader"}};
  options.bounded = true;
  return options;
}

/// The changelog of the table that `topic` holds, read to its end at `parallelism`.
users_changelog read_table(const std::string& bootstrap, const std::string& topic,
                           uint32_t parallelism) {
  pipeline p{"read-" + topic};
  users_changelog out;
  kafka_table(p, reading(bootstrap, topic), string_serde{}, string_serde{})
    .to_stream()
    .sink(collect(out));
  runtime_config config;
  config.default_parallelism = parallelism;
  runtime rt{config};
  REQUIRE_FALSE(rt.run(p));
  return out;
}

/// Builds into `p` a job that makes the users table from the first `n` changes, in order, and
/// writes it to `topic` as `delivery` says.
void users_to_kafka(pipeline& p, const std::string& bootstrap, const std::string& topic, int n,
                    kafka_delivery delivery) {
  auto source =
    p.source(generate<user_change>([](uint64_t i) { return change(static_cast<int>(i)); },
                                   {.count = static_cast<uint64_t>(n), .rate = 0}));
  source.parallelism(1);
  auto users =
    source.key_by(&user_change::first).to_table([](const user_change& c) { return c.second; });
  users.parallelism(2);
  kafka_sink_options options;
  options.topic = topic;
  options.properties = {{"bootstrap.servers", bootstrap}};
  options.delivery = delivery;
  write_to_kafka(users, options, string_serde{}, string_serde{});
}

/// How many changes the users table makes from the first `n` changes: one per change, but none
/// for the tombstone of a user not in the table.
size_t table_changes(int n) {
  std::map<std::string, std::string> users;
  size_t made = 0;
  for (int i = 0; i < n; ++i) {
    auto [user, city] = change(i);
    if (city) {
      users[user] = *city;
      ++made;
    } else {
      made += users.erase(user);
    }
  }
  return made;
}

/// The users that `messages` leave, applied in order (a user's all in one partition).
std::map<std::string, std::string> apply(const std::vector<test::read_message>& messages) {
  std::map<std::string, std::string> users;
  for (const auto& m : messages) {
    if (m.tombstone)
      users.erase(m.key);
    else
      users[m.key] = m.value;
  }
  return users;
}

} // namespace

TEST_CASE("a Kafka table holds each key's newest value and a tombstone deletes the key") {
  test::kafka_mock kafka;
  kafka.create_topic("users", partitions);
  for (int i = 0; i < changes; ++i) {
    auto [user, city] = change(i);
    kafka.producer().produce_keyed("users", partition_of(user), user, city, 1'000 + i);
  }
  kafka.producer().flush();
  auto expected = users_after(changes);
  // Empty values are rows, tombstones are not: both occur in what is checked.
  REQUIRE(std::any_of(expected.begin(), expected.end(), [](auto& u) { return u.second.empty(); }));
  REQUIRE(expected.size() < 150);
  for (uint32_t parallelism : {1u, 2u, 4u}) {
    INFO("parallelism " << parallelism);
    test::check_changelog(read_table(kafka.bootstrap(), "users", parallelism), expected);
  }
}

TEST_CASE("a table written to Kafka is its changelog: new values, and tombstones for deletes") {
  test::kafka_mock kafka;
  kafka.create_topic("users-table", partitions);
  runtime rt;
  pipeline p{"write-users"};
  users_to_kafka(p, kafka.bootstrap(), "users-table", changes, kafka_delivery::at_least_once);
  REQUIRE_FALSE(rt.run(p));
  auto expected = users_after(changes);
  auto messages = test::read_topic(kafka.bootstrap(), "users-table", partitions);
  CHECK(std::any_of(messages.begin(), messages.end(), [](auto& m) { return m.tombstone; }));
  CHECK(std::any_of(messages.begin(), messages.end(),
                    [](auto& m) { return !m.tombstone && m.value.empty(); }));
  CHECK(messages.size() == table_changes(changes));
  CHECK(apply(messages) == expected);
  // Read back as a table, the topic gives the same rows.
  test::check_changelog(read_table(kafka.bootstrap(), "users-table", 2), expected);
}

TEST_CASE("a table written exactly once to a compacted topic reads back after compaction") {
  auto broker = test::kafka_broker::start_or_skip();
  if (!broker)
    return;
  // Segments roll every 100 ms and are compacted as soon as the cleaner looks (every second).
  broker->create_topic("users", 2,
                       {"cleanup.policy=compact", "segment.ms=100",
                        "min.cleanable.dirty.ratio=0.01", "min.compaction.lag.ms=0"});
  // Two runs: the first writes half the changes, the second, 200 ms later (so the first one's
  // segments are closed), all of them. Their messages written: the to_table changes of each.
  for (int n : {changes / 2, changes}) {
    test::temp_dir state;
    runtime rt{test::recovery_config(state)};
    pipeline p{"write-users"};
    users_to_kafka(p, broker->bootstrap(), "users", n, kafka_delivery::exactly_once);
    REQUIRE_FALSE(rt.run(p));
    std::this_thread::sleep_for(200ms);
  }
  auto written = table_changes(changes / 2) + table_changes(changes);
  auto compacted = test::eventually(
    [&] { return test::read_topic(broker->bootstrap(), "users", 2).size() < written; }, 60s);
  REQUIRE(compacted);
  auto expected = users_after(changes);
  CHECK(apply(test::read_topic(broker->bootstrap(), "users", 2)) == expected);
  test::check_changelog(read_table(broker->bootstrap(), "users", 2), expected);
}
