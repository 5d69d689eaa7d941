// register / delete timers per key --> timer_service (a keyed table + a queue and a heap, the
// later timers spilled to LMDB past a limit) --> fired in time order

#include <catch2/catch.hpp>

#include <algorithm>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "sluice/detail/timer_queue.hpp"
#include "sluice/detail/timer_service.hpp"
#include "sluice/detail/timer_spill.hpp"
#include "sluice/lmdb_environment.hpp"

#include "support/test_support.hpp"

using sluice::memory_table;
using sluice::timestamp;
using sluice::detail::pending_times;
using sluice::detail::timer_service;
using sluice::detail::timer_spill;

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

TEST_CASE("timers prefetch the keys of timers about to fire, and only those") {
  timer_service<std::string> timers{std::make_shared<times_table>()};
  for (int t = 1; t <= 40; ++t)
    timers.add("k" + std::to_string(t), t);
  std::vector<std::string> prefetched;
  fired out;
  timers.advance_to(
    30, [&](const std::string& key, timestamp t) { out.emplace_back(key, t); },
    [&](const std::string& key) {
      // Ahead of its firing, never behind it.
      CHECK(std::none_of(out.begin(), out.end(), [&](const auto& f) { return f.first == key; }));
      prefetched.push_back(key);
    });
  CHECK(out.size() == 30);
  std::vector<std::string> due;
  for (int t = 1; t <= 30; ++t)
    due.push_back("k" + std::to_string(t));
  CHECK(prefetched == due); // each once, in firing order, none of a timer not due
}

TEST_CASE("a timer registered twice fires once, and a deleted one not at all") {
  timer_service<std::string> timers{std::make_shared<times_table>()};
  timers.add("k", 5);
  timers.add("k", 5);
  timers.add("k", 7);
  timers.remove("k", 7);
  timers.remove("k", 9); // never registered: nothing happens
  CHECK(timers.earliest() == 5);
  CHECK(fire_until(timers, 10) == fired{{"k", 5}});
  // Deleted, registered again: the stale heap entry does not make it fire twice.
  timers.add("k", 20);
  timers.remove("k", 20);
  timers.add("k", 20);
  CHECK(fire_until(timers, 20) == fired{{"k", 20}});
  // Deleted among others of its time, passed over as the earliest, registered again.
  timers.add("a", 30);
  timers.add("b", 30);
  timers.remove("a", 30);
  timers.add("c", 25);
  timers.remove("c", 25);
  CHECK(timers.earliest() == 30);
  timers.add("a", 30);
  CHECK(fire_until(timers, 30) == fired{{"a", 30}, {"b", 30}});
}

TEST_CASE("a timer registered for every record of a window is held once per key") {
  timer_service<std::string> timers{std::make_shared<times_table>()};
  for (int record = 0; record < 1000; ++record)
    timers.add("k" + std::to_string(record % 10), 100); // the window's end, for each record
  CHECK(timers.held_in_memory() == 10);
  // Out of order, registered twice, and again among the window's.
  timers.add("k3", 50);
  timers.add("k3", 50);
  timers.add("k4", 100);
  fired expected{{"k3", 50}};
  for (int k = 0; k < 10; ++k)
    expected.emplace_back("k" + std::to_string(k), 100);
  CHECK(fire_until(timers, 100) == expected);
}

TEST_CASE("a timer added as new is held once when added again right behind, and fires once") {
  timer_service<std::string> timers{std::make_shared<times_table>()};
  for (int k = 0; k < 10; ++k) {
    auto key = "k" + std::to_string(k);
    timers.add_new(key, 100); // a window opens: its cleanup
    timers.add(key, 100);     // and its trigger's timer, at the same time
  }
  CHECK(timers.held_in_memory() == 10);
  timers.add("k3", 100); // further back: held twice, fires once
  fired expected;
  for (int k = 0; k < 10; ++k)
    expected.emplace_back("k" + std::to_string(k), 100);
  CHECK(fire_until(timers, 100) == expected);
}

TEST_CASE("duplicates of a timer merge when due, written to the table if any of them was") {
  using queue = sluice::detail::timer_queue<std::string>;
  for (bool first_in_table : {false, true}) {
    queue timers;
    for (timestamp t : {40, 30, 20, 10}) // one run each, as many as the queue keeps
      timers.push({t, "run"});
    // Earlier than every run's last timer: into the heap, both.
    timers.push({1, "k", first_in_table});
    timers.push({1, "k", !first_in_table});
    timers.push({1, "a"});
    std::vector<queue::entry> due;
    timers.take_due(1, due);
    REQUIRE(due.size() == 2);
    CHECK(due[0].key == "a");
    CHECK_FALSE(due[0].in_table);
    CHECK(due[1].key == "k");
    CHECK(due[1].in_table);
    CHECK(timers.size() == 4);
  }
}

TEST_CASE("timers added in several interleaved time orders fire in one time order") {
  timer_service<std::string> timers{std::make_shared<times_table>()};
  fired expected;
  // Six upstreams' records, each in time order, their batches interleaved: more orders than
  // the queue keeps runs for, so some go to its heap.
  for (timestamp batch = 0; batch < 20; ++batch)
    for (timestamp upstream = 0; upstream < 6; ++upstream)
      for (timestamp i = 0; i < 5; ++i) {
        auto time = upstream * 7 + batch * 5 + i;
        timers.add("u" + std::to_string(upstream) + "-" + std::to_string(time), time);
      }
  auto out = fire_until(timers, 1000);
  CHECK(out.size() == 600);
  CHECK(std::is_sorted(out.begin(), out.end(), [](const auto& a, const auto& b) {
    return a.second != b.second ? a.second < b.second : a.first < b.first;
  }));
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

TEST_CASE("the pending timers are keyed state: a service over the table persisted finds them") {
  auto table = std::make_shared<times_table>();
  {
    timer_service<std::string> timers{table};
    timers.add("x", 3);
    timers.add("y", 2);
    timers.add("x", 1);
    timers.add("z", 4);
    CHECK(fire_until(timers, 1) == fired{{"x", 1}});
    CHECK(table->size() == 0); // nothing written until a checkpoint asks
    timers.remove("z", 4);
    timers.persist();
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
  timers.persist();
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

TEST_CASE("the spill gives back its earliest timers whole by time, negative times first") {
  sluice::test::temp_dir dir;
  sluice::lmdb_environment env{dir.path().string()};
  timer_spill spill{env, "order"};
  spill.add(5, "b");
  spill.add(-3, "z");
  spill.add(5, "a");
  spill.add(9, "c");
  spill.add(5, "a"); // there already
  CHECK(spill.earliest() == -3);
  // Two asked for; the third shares the second's time.
  CHECK(spill.take(2) == std::vector<timer_spill::entry>{{-3, "z"}, {5, "a"}, {5, "b"}});
  CHECK(spill.earliest() == 9);
  // Written in a second batch: one before what the database holds, one after it.
  spill.add(12, "e");
  spill.add(7, "d");
  CHECK(spill.earliest() == 7);
  CHECK(spill.take(10) == std::vector<timer_spill::entry>{{7, "d"}, {9, "c"}, {12, "e"}});
  CHECK_FALSE(spill.earliest());
  CHECK(spill.take(1).empty());
  spill.add(1, "x");
  timer_spill reopened{env, "order"}; // derived data: empty when opened
  CHECK_FALSE(reopened.earliest());
}

TEST_CASE("timers past the memory limit spill to LMDB and fire as if all were held in memory") {
  for (uint32_t seed : {1u, 2u, 3u, 4u}) {
    for (size_t limit : {size_t{2}, size_t{16}}) {
      INFO("seed " << seed << ", memory limit " << limit);
      sluice::test::temp_dir dir;
      sluice::lmdb_environment env{dir.path().string()};
      timer_service<std::string> held{std::make_shared<times_table>()};
      auto spilled_table = std::make_shared<times_table>();
      timer_service<std::string> spilled{spilled_table, std::make_unique<timer_spill>(env, "order"),
                                         limit};
      std::mt19937 rng{seed};
      timestamp now = 0;
      size_t peak_held = 0;
      size_t fired_count = 0;
      std::vector<std::pair<std::string, timestamp>> added;
      // A timer firing at an even time divisible by 3 asks for another one, as a window's
      // would, at an odd time (so the chain ends).
      auto advance = [&](timer_service<std::string>& timers, timestamp to) {
        fired out;
        timers.advance_to(to, [&](const std::string& key, timestamp t) {
          out.emplace_back(key, t);
          if (t % 6 == 0)
            timers.add(key, t + 1 + static_cast<timestamp>(t % 7) * 10);
        });
        return out;
      };
      for (int step = 0; step < 3000; ++step) {
        auto key = "k" + std::to_string(rng() % 40);
        auto op = rng() % 10;
        if (op < 6) {
          // Mostly in time order, some earlier, some far later.
          auto time = op < 4 ? now + static_cast<timestamp>(step % 500)
                             : now + static_cast<timestamp>(rng() % 5000);
          held.add(key, time);
          spilled.add(key, time);
          added.emplace_back(key, time);
        } else if (op == 6) {
          if (!added.empty()) {
            const auto& [k, time] = added[rng() % added.size()];
            held.remove(k, time);
            spilled.remove(k, time);
          }
        } else {
          now += static_cast<timestamp>(rng() % 60);
          auto expected = advance(held, now);
          fired_count += expected.size();
          REQUIRE(advance(spilled, now) == expected);
          CHECK(spilled.earliest() == held.earliest());
        }
        peak_held = std::max(peak_held, spilled.held_in_memory());
      }
      auto expected = advance(held, sluice::max_timestamp);
      CHECK(advance(spilled, sluice::max_timestamp) == expected);
      CHECK(spilled_table->size() == 0); // what spilled was written, and left when it fired
      CHECK(fired_count + expected.size() > 1000);
      // Hundreds pending at a time; memory held about the limit (and a time's timers whole).
      CHECK(peak_held <= 2 * limit + 4);
    }
  }
}

TEST_CASE("a service opened over more pending timers than memory holds takes them in order") {
  sluice::test::temp_dir dir;
  sluice::lmdb_environment env{dir.path().string()};
  auto table = std::make_shared<times_table>();
  {
    timer_service<std::string> timers{table};
    for (int k = 0; k < 100; ++k)
      for (timestamp t = 0; t < 10; ++t)
        timers.add("k" + std::to_string(k), (k * 37 + t * 101) % 500);
    timers.persist();
  }
  auto copy = std::make_shared<times_table>(*table);
  timer_service<std::string> held{table};
  timer_service<std::string> restored{copy, std::make_unique<timer_spill>(env, "order"), 16};
  CHECK(restored.held_in_memory() == 0); // all in the spill
  CHECK(restored.earliest() == held.earliest());
  CHECK(restored.held_in_memory() <= 16);
  auto expected = fire_until(held, 1000);
  CHECK(expected.size() == 1000);
  CHECK(fire_until(restored, 1000) == expected);
}

TEST_CASE("timers all of one time spill whole and fire in key order when their time comes") {
  sluice::test::temp_dir dir;
  sluice::lmdb_environment env{dir.path().string()};
  timer_service<std::string> timers{std::make_shared<times_table>(),
                                    std::make_unique<timer_spill>(env, "order"), 4};
  fired expected;
  for (char c = 'z'; c >= 'a'; --c) // a window's end, for every key
    timers.add(std::string(1, c), 100);
  for (char c = 'a'; c <= 'z'; ++c)
    expected.emplace_back(std::string(1, c), 100);
  CHECK(timers.held_in_memory() <= 4);
  CHECK(fire_until(timers, 99).empty());
  CHECK(timers.held_in_memory() <= 4); // not taken from the spill before they are due
  CHECK(fire_until(timers, 100) == expected);
}

TEST_CASE("a service rebuilt from its table at a checkpoint fires as the original from then on") {
  auto advance = [](timer_service<std::string>& timers, timestamp to) {
    fired out;
    timers.advance_to(to, [&](const std::string& key, timestamp t) {
      out.emplace_back(key, t);
      if (t % 5 == 0)
        timers.add(key, t + 3);
    });
    return out;
  };
  for (uint32_t seed : {11u, 12u, 13u, 14u, 15u, 16u}) {
    INFO("seed " << seed);
    sluice::test::temp_dir dir;
    sluice::lmdb_environment env{dir.path().string()};
    auto table = std::make_shared<times_table>();
    timer_service<std::string> original{table, std::make_unique<timer_spill>(env, "order"), 8};
    // Rebuilt from a copy of the table after each checkpoint, then told what the original is.
    std::optional<timer_service<std::string>> restored;
    std::mt19937 rng{seed};
    timestamp now = 0;
    std::vector<std::pair<std::string, timestamp>> added;
    size_t compared = 0;
    auto to_both = [&](auto&& change) {
      change(original);
      if (restored)
        change(*restored);
    };
    for (int step = 0; step < 2000; ++step) {
      auto key = "k" + std::to_string(rng() % 30);
      auto op = rng() % 20;
      if (op < 10) {
        // In time order, far later, or already passed (due at the next advance).
        auto time = op < 6   ? now + static_cast<timestamp>(step % 50)
                    : op < 9 ? now + static_cast<timestamp>(rng() % 300)
                             : now - 5;
        to_both([&](auto& timers) { timers.add(key, time); });
        added.emplace_back(key, time);
      } else if (op < 13) {
        if (!added.empty()) {
          auto [k, time] = added[rng() % added.size()];
          to_both([&](auto& timers) { timers.remove(k, time); });
        }
      } else if (op < 19) {
        now += static_cast<timestamp>(rng() % 40);
        auto expected = advance(original, now);
        if (restored) {
          REQUIRE(advance(*restored, now) == expected);
          compared += expected.size();
        }
      } else {
        original.persist();
        restored.emplace(std::make_shared<times_table>(*table));
      }
    }
    auto expected = advance(original, sluice::max_timestamp);
    REQUIRE(restored);
    CHECK(advance(*restored, sluice::max_timestamp) == expected);
    CHECK(compared > 100);
  }
}
