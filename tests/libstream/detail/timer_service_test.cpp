// register / delete timers per key --> timer_service (a keyed table + a heap) --> fired in time
// order

#include <catch2/catch.hpp>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "sluice/detail/timer_service.hpp"

using sluice::memory_table;
using sluice::timestamp;
using sluice::detail::pending_times;
using sluice::detail::timer_service;

namespace {

using times_table = memory_table<std::string, pending_times>;
using fired = std::vector<std::pair<std::string, timestamp>>;

fired fire_until(timer_service<std::string>& timers, timestamp to) {
  fired out;
  timers.advance_to(to, [&](const std::string& key, timestamp t) { out.emplace_back(key, t); });
  return out;
}

} // namespace

TEST_CASE("timers fire in time order up to the time advanced to, each once") {
  timer_service<std::string> timers{std::make_shared<times_table>()};
  timers.add("b", 30);
  timers.add("a", 10);
  timers.add("c", 20);
  timers.add("a", 40);
  CHECK(fire_until(timers, 25) == fired{{"a", 10}, {"c", 20}});
  CHECK(fire_until(timers, 25).empty());
  CHECK(timers.earliest() == 30);
  CHECK(fire_until(timers, 100) == fired{{"b", 30}, {"a", 40}});
  CHECK_FALSE(timers.earliest());
}

TEST_CASE("a timer registered twice fires once, and a deleted one not at all") {
  timer_service<std::string> timers{std::make_shared<times_table>()};
  timers.add("k", 5);
  timers.add("k", 5);
  timers.add("k", 7);
  timers.remove("k", 7);
  timers.remove("k", 9); // never registered: nothing happens
  CHECK(timers.of("k") == std::vector<timestamp>{5});
  CHECK(fire_until(timers, 10) == fired{{"k", 5}});
  // Deleted, registered again: the stale heap entry does not make it fire twice.
  timers.add("k", 20);
  timers.remove("k", 20);
  timers.add("k", 20);
  CHECK(fire_until(timers, 20) == fired{{"k", 20}});
}

TEST_CASE("timers due at the same time fire in key order, however they were added") {
  timer_service<std::string> forward{std::make_shared<times_table>()};
  timer_service<std::string> backward{std::make_shared<times_table>()};
  for (const auto* key : {"a", "b", "c"})
    forward.add(key, 1);
  for (const auto* key : {"c", "b", "a"})
    backward.add(key, 1);
  const fired in_key_order{{"a", 1}, {"b", 1}, {"c", 1}};
  CHECK(fire_until(forward, 1) == in_key_order);
  CHECK(fire_until(backward, 1) == in_key_order);
}

TEST_CASE("a timer added while firing fires in the same advance when it is due") {
  timer_service<std::string> timers{std::make_shared<times_table>()};
  timers.add("k", 1);
  fired out;
  timers.advance_to(10, [&](const std::string& key, timestamp t) {
    out.emplace_back(key, t);
    if (t < 8)
      timers.add(key, t + 3);
  });
  CHECK(out == fired{{"k", 1}, {"k", 4}, {"k", 7}, {"k", 10}});
}

TEST_CASE("the pending timers are keyed state: a service over the same table finds them") {
  auto table = std::make_shared<times_table>();
  {
    timer_service<std::string> timers{table};
    timers.add("x", 3);
    timers.add("y", 2);
    timers.add("x", 1);
    CHECK(fire_until(timers, 1) == fired{{"x", 1}});
  }
  CHECK(table->size() == 2);
  timer_service<std::string> restored{table};
  CHECK(restored.earliest() == 2);
  CHECK(fire_until(restored, 5) == fired{{"y", 2}, {"x", 3}});
  CHECK(table->size() == 0);
}

TEST_CASE("timers of one time fire in key order however they came, as in a restored service") {
  auto table = std::make_shared<times_table>();
  timer_service<std::string> timers{table};
  timers.add("c", 10);
  timers.add("d", 20);
  timers.add("a", 10); // earlier than the last added: kept apart from those in time order
  timers.add("b", 20);
  timers.add("e", 5);
  auto copy = std::make_shared<times_table>(*table);
  timer_service<std::string> restored{copy}; // rebuilt from the table alone
  fired expected{{"e", 5}, {"a", 10}, {"c", 10}, {"b", 20}, {"d", 20}};
  CHECK(fire_until(timers, 100) == expected);
  CHECK(fire_until(restored, 100) == expected);
}

TEST_CASE("a timer added while timers fire, at a time already reached, fires in the same call") {
  timer_service<std::string> timers{std::make_shared<times_table>()};
  timers.add("a", 10);
  fired out;
  timers.advance_to(50, [&](const std::string& key, timestamp t) {
    out.emplace_back(key, t);
    if (key == "a")
      timers.add("b", 10); // at the time firing now
  });
  CHECK(out == fired{{"a", 10}, {"b", 10}});
}

TEST_CASE("a key's pending times stay sorted, each once, beyond those held in place too") {
  pending_times times;
  for (timestamp t : {30, 10, 20, 10, 40, 20})
    times.add(t);
  CHECK(times.to_vector() == std::vector<timestamp>{10, 20, 30, 40});
  CHECK(times.remove(20));
  CHECK_FALSE(times.remove(25));
  CHECK(times.contains(30));
  CHECK_FALSE(times.contains(20));
  // Stored as the sorted times are, read back whole.
  auto bytes = sluice::encode_state(times);
  CHECK(bytes == sluice::encode_state(std::vector<timestamp>{10, 30, 40}));
  CHECK(sluice::decode_state<pending_times>(bytes.data(), bytes.size()) == times);
}
