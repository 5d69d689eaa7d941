// keyed state in LMDB: reads through the overlay and the spill, checkpoints and reopening,
// map growth, and each failure as a clear error naming the path

#include <catch2/catch.hpp>

#include <atomic>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "support/test_support.hpp"

using namespace sluice;

namespace {

state_options lmdb_options(const std::string& directory, size_t overlay_entries) {
  state_options options;
  options.backend = state_backend::lmdb;
  options.directory = directory;
  options.overlay_entries = overlay_entries;
  return options;
}

/// Every entry of a table, through for_each.
template <class K, class V>
std::map<K, V> entries(const keyed_table<K, V>& table) {
  std::map<K, V> result;
  table.for_each([&](const K& k, const V& v) { CHECK(result.emplace(k, v).second); });
  return result;
}

/// Where values of type `tracked` were destroyed.
struct destructions {
  std::mutex mutex;
  std::vector<std::thread::id> threads;
};

/// A value that notes the thread that destroys it.
struct tracked {
  std::shared_ptr<destructions> log;

  tracked() = default;
  tracked(const tracked&) = delete;
  tracked& operator=(const tracked&) = delete;
  tracked(tracked&&) = default;
  tracked& operator=(tracked&&) = default;

  ~tracked() {
    if (!log)
      return;
    std::lock_guard<std::mutex> guard{log->mutex};
    log->threads.push_back(std::this_thread::get_id());
  }
};

/// A value type that CAF cannot serialize and that has no sluice_encode.
struct opaque {
  int x = 0;
};

} // namespace

TEST_CASE("LMDB keyed state reads back what was written, also after spilling") {
  test::temp_dir dir;
  for (size_t overlay : {size_t{4}, size_t{1} << 20}) {
    INFO("overlay of " << overlay << " entries");
    state_store store{lmdb_options(dir.file("s" + std::to_string(overlay)), overlay)};
    auto table = store.table<std::string, int64_t>("counts");
    std::map<std::string, int64_t> model;
    std::mt19937 rng{7};
    std::string key;
    for (int step = 0; step < 5000; ++step) {
      // Half the steps use the key of the step before again, as an operator reading and then
      // writing its key's state does.
      if (key.empty() || rng() % 2 == 0)
        key = "k" + std::to_string(rng() % 300);
      switch (rng() % 5) {
        case 0:
          table->erase(key);
          model.erase(key);
          break;
        case 1: {
          auto* v = table->find(key);
          auto m = model.find(key);
          REQUIRE((v != nullptr) == (m != model.end()));
          if (v)
            CHECK(*v == m->second);
          break;
        }
        case 2: {
          // Adds the step and removes the value where that makes it a multiple of 3.
          auto change = [&](int64_t& v) {
            v += step;
            return v % 3 == 0;
          };
          auto m = model.find(key);
          REQUIRE(table->modify(key, change) == (m != model.end()));
          if (m != model.end() && change(m->second))
            model.erase(m);
          break;
        }
        default:
          table->upsert(key) += step;
          model[key] += step;
      }
      if (step % 1000 == 999) {
        // Completion lags a checkpoint behind, so reads also go through pending changes.
        auto id = static_cast<uint64_t>(step / 1000 + 1);
        store.checkpoint(id);
        if (id > 1)
          store.complete(id - 1);
      }
    }
    CHECK(table->size() == model.size());
    CHECK(entries(*table) == model);
  }
}

TEST_CASE("an LMDB transaction appends ascending keys and erases from the front") {
  test::temp_dir dir;
  lmdb_environment env{dir.file("env")};
  auto db = env.open("d");
  env.write([&](lmdb_environment::transaction& txn) {
    CHECK(txn.append(db, "b", "1"));
    CHECK(txn.append(db, "c", "2"));
    CHECK_FALSE(txn.append(db, "a", "0")); // not after "c": nothing written
    CHECK_FALSE(txn.append(db, "c", "3"));
    txn.put(db, "a", "0");
  });
  std::vector<std::string> erased;
  env.write([&](lmdb_environment::transaction& txn) {
    txn.erase_front_while(db, [&](std::string_view key, std::string_view value) {
      if (key == "c")
        return false;
      erased.push_back(std::string{key} + "=" + std::string{value});
      return true;
    });
  });
  CHECK(erased == std::vector<std::string>{"a=0", "b=1"});
  env.write([&](lmdb_environment::transaction& txn) {
    CHECK(txn.get(db, "c") == "2");
    CHECK(txn.entries(db) == 1);
    txn.erase_front_while(db, [](std::string_view, std::string_view) { return true; });
    CHECK(txn.entries(db) == 0);
  });
}

TEST_CASE("LMDB keyed state reopens at its last completed checkpoint after random changes") {
  // Random puts and erases over few keys (so keys come and go between checkpoints),
  // checkpoints completed a checkpoint late, then a "crash" and a reopen.
  for (uint32_t seed : {1u, 2u, 3u, 4u}) {
    for (size_t overlay : {size_t{4}, size_t{1} << 20}) {
      INFO("seed " << seed << ", overlay of " << overlay << " entries");
      test::temp_dir dir;
      std::mt19937 rng{seed};
      std::map<int, int64_t> model;
      std::map<uint64_t, std::map<int, int64_t>> at_checkpoint;
      uint64_t completed = 0;
      {
        state_store store{lmdb_options(dir.file("s"), overlay)};
        auto table = store.table<int, int64_t>("counts");
        for (int step = 1; step <= 3000; ++step) {
          auto key = static_cast<int>(rng() % 40);
          if (rng() % 3 == 0) {
            table->erase(key);
            model.erase(key);
          } else {
            table->upsert(key) += step;
            model[key] += step;
          }
          if (rng() % 50 == 0) {
            auto id = at_checkpoint.size() + 1;
            store.checkpoint(id);
            at_checkpoint[id] = model;
            if (id > 1 && rng() % 2 == 0)
              store.complete(completed = id - 1);
          }
        }
        REQUIRE(completed > 0);
        CHECK(entries(*table) == model);
      }
      state_store store{lmdb_options(dir.file("s"), overlay)};
      auto table = store.table<int, int64_t>("counts");
      CHECK(table->size() == at_checkpoint[completed].size());
      CHECK(entries(*table) == at_checkpoint[completed]);
    }
  }
}

TEST_CASE("an erased LMDB entry leaves memory once nothing on disk needs hiding") {
  test::temp_dir dir;
  state_store store{lmdb_options(dir.file("s"), 1 << 20)};
  auto table = store.table<int, int64_t>("counts");
  auto& lmdb = dynamic_cast<lmdb_table<int, int64_t>&>(*table);
  for (int k = 0; k < 100; ++k)
    table->upsert(k) = k;
  for (int k = 0; k < 50; ++k)
    table->erase(k); // never checkpointed: no tombstone, forgotten at the checkpoint
  for (int k = 1000; k < 1010; ++k)
    CHECK(table->find(k) == nullptr); // found nowhere: forgotten at the checkpoint too
  CHECK(table->size() == 50);
  CHECK(store.checkpoint(1) > 0);
  CHECK(lmdb.overlay_entries() == 50);
  for (int k = 50; k < 100; ++k)
    table->erase(k); // checkpoint 1 holds them: each leaves a tombstone
  CHECK(lmdb.overlay_entries() == 50);
  CHECK(table->size() == 0);
  store.checkpoint(2); // the tombstones are written: the overlay forgets them
  CHECK(lmdb.overlay_entries() == 0);
  store.complete(2);
  CHECK(table->find(60) == nullptr);
  CHECK(entries(*table).empty());
}

TEST_CASE("an LMDB checkpoint writes the entries changed since the last one, and only those") {
  test::temp_dir dir;
  state_store store{lmdb_options(dir.file("s"), 1 << 20)};
  auto table = store.table<int, int64_t>("counts");
  table->upsert(0) = 1;
  const auto entry_bytes = store.checkpoint(1); // keys and values of one size: bytes per entry
  REQUIRE(entry_bytes > 0);
  for (int k = 1; k < 1000; ++k)
    table->upsert(k) = k;
  CHECK(store.checkpoint(2) == 999 * entry_bytes);
  for (int k : {5, 500, 5, 999})
    table->upsert(k) += 1; // a key changed twice is written once
  for (int k = 0; k < 1000; k += 7)
    CHECK(table->find(k) != nullptr); // reads change nothing
  CHECK(store.checkpoint(3) == 3 * entry_bytes);
  CHECK(store.checkpoint(4) == 0);
  table->erase(42);
  CHECK(store.checkpoint(5) > 0); // the tombstone
  store.complete(5);
  CHECK(table->size() == 999);
}

TEST_CASE("keys made and erased between checkpoints leave a small LMDB overlay room") {
  // Each fresh key erased again holds an overlay entry until the checkpoint; a full overlay
  // forgets those before it spills anything, and the live keys stay exact.
  for (size_t limit : {size_t{1}, size_t{16}}) {
    INFO("overlay of " << limit << " entries");
    test::temp_dir dir;
    std::map<int, int64_t> model;
    {
      state_store store{lmdb_options(dir.file("s"), limit)};
      auto table = store.table<int, int64_t>("counts");
      auto& lmdb = dynamic_cast<lmdb_table<int, int64_t>&>(*table);
      for (int k = 0; k < 10; ++k)
        model[k] = table->upsert(k) = k;
      for (int k = 100; k < 5000; ++k) {
        table->upsert(k) = k;
        table->erase(k);
        CHECK(lmdb.overlay_entries() <= limit);
        if (k % 1000 == 0)
          store.checkpoint(static_cast<uint64_t>(k / 1000));
      }
      CHECK(entries(*table) == model);
      store.checkpoint(5);
      store.complete(5);
    }
    state_store store{lmdb_options(dir.file("s"), limit)};
    auto table = store.table<int, int64_t>("counts");
    CHECK(entries(*table) == model);
    CHECK(table->size() == 10);
  }
}

TEST_CASE("LMDB keyed state restarts from a completed checkpoint") {
  test::temp_dir dir;
  // Checkpoint 1 completes; checkpoint 2 is taken but not completed; more changes follow, some
  // spilled to disk, some only in memory; then the process "crashes".
  auto crash_after_checkpoints = [&](const std::string& path) {
    state_store store{lmdb_options(path, 8)};
    CHECK(store.completed_checkpoint() == 0);
    auto table = store.table<int, std::string>("names");
    for (int k = 0; k < 100; ++k)
      table->upsert(k) = "v1";
    table->erase(7);
    store.checkpoint(1);
    store.complete(1);
    for (int k = 50; k < 100; ++k)
      table->upsert(k) = "v2";
    table->upsert(200) = "v2";
    table->erase(8);
    store.checkpoint(2);
    for (int k = 0; k < 100; ++k)
      table->upsert(k) = "v3";
    table->erase(9);
    table->upsert(300) = "v3";
  };
  std::map<int, std::string> at_1;
  for (int k = 0; k < 100; ++k)
    if (k != 7)
      at_1[k] = "v1";
  auto at_2 = at_1;
  for (int k = 50; k < 100; ++k)
    at_2[k] = "v2";
  at_2[200] = "v2";
  at_2.erase(8);

  SECTION("by default, to the last checkpoint the instance saw complete") {
    auto path = dir.file("default");
    crash_after_checkpoints(path);
    state_store store{lmdb_options(path, 8)};
    CHECK(store.completed_checkpoint() == 1);
    auto table = store.table<int, std::string>("names");
    CHECK(table->size() == at_1.size());
    CHECK(entries(*table) == at_1);
  }
  SECTION("or to a later one it was not told of (the coordinator completed it)") {
    auto path = dir.file("later");
    crash_after_checkpoints(path);
    auto options = lmdb_options(path, 8);
    options.restore_checkpoint = 2;
    state_store store{options};
    auto table = store.table<int, std::string>("names");
    CHECK(table->size() == at_2.size());
    CHECK(entries(*table) == at_2);
    CHECK(table->find(300) == nullptr);
  }
}

TEST_CASE("an exiting instance's state is freed off its thread, keeping what was checkpointed") {
  SECTION("memory tables are emptied and their values destroyed on another thread") {
    auto log = std::make_shared<destructions>();
    state_options options;
    options.backend = state_backend::memory;
    state_store store{options};
    auto table = store.table<int, tracked>("values");
    for (int k = 0; k < 1000; ++k)
      table->upsert(k).log = log;
    store.release_memory();
    CHECK(table->size() == 0);
    REQUIRE(test::eventually([&] {
      std::lock_guard<std::mutex> guard{log->mutex};
      return log->threads.size() == 1000;
    }));
    for (auto id : log->threads)
      CHECK(id != std::this_thread::get_id());
  }
  SECTION("LMDB tables keep the completed checkpoint, and lose the rest as in a crash") {
    test::temp_dir dir;
    auto path = dir.file("released");
    {
      state_store store{lmdb_options(path, 1 << 20)};
      auto table = store.table<int, int64_t>("counts");
      for (int k = 0; k < 1000; ++k)
        table->upsert(k) = 1;
      store.checkpoint(1);
      store.complete(1);
      for (int k = 0; k < 1000; ++k)
        table->upsert(k) = 2;
      store.release_memory();
    }
    state_store store{lmdb_options(path, 1 << 20)};
    auto table = store.table<int, int64_t>("counts");
    std::map<int, int64_t> at_1;
    for (int k = 0; k < 1000; ++k)
      at_1[k] = 1;
    CHECK(entries(*table) == at_1);
  }
}

TEST_CASE("a full LMDB map grows instead of failing") {
  test::temp_dir dir;
  auto path = dir.file("big");
  const std::string megabyte(1 << 20, 'x');
  {
    state_store store{lmdb_options(path, 16)};
    auto table = store.table<int, std::string>("blobs");
    // 96 MiB: more than the map LMDB starts with.
    for (int k = 0; k < 96; ++k)
      table->upsert(k) = megabyte;
    store.checkpoint(1);
    store.complete(1);
  }
  state_store store{lmdb_options(path, 16)};
  auto table = store.table<int, std::string>("blobs");
  CHECK(table->size() == 96);
  REQUIRE(table->find(95) != nullptr);
  CHECK(*table->find(95) == megabyte);
}

TEST_CASE("state written with other types is a clear error naming the path") {
  test::temp_dir dir;
  auto path = dir.file("typed");
  {
    state_store store{lmdb_options(path, 16)};
    store.table<int, int64_t>("sums")->upsert(1) = 5;
    store.checkpoint(1);
    store.complete(1);
  }
  state_store store{lmdb_options(path, 16)};
  REQUIRE_THROWS_AS((store.table<int, std::string>("sums")), state_type_error);
  CHECK_THROWS_WITH((store.table<int, std::string>("sums")),
                    Catch::Contains(path) && Catch::Contains("other key or value types"));
  // The state itself is untouched.
  CHECK(*store.table<int, int64_t>("sums")->find(1) == 5);
}

TEST_CASE("an unusable state directory is a clear error naming the path") {
  test::temp_dir dir;
  auto file = dir.file("not-a-directory");
  std::ofstream{file} << "x";
  state_store store{lmdb_options(file + "/instance", 16)};
  CHECK_THROWS_WITH((store.table<int, int>("t")),
                    Catch::Contains(file + "/instance") && Catch::Contains("directory"));
}

TEST_CASE("a corrupt LMDB environment is a clear error naming the path") {
  test::temp_dir dir;
  auto path = dir.file("corrupt");
  {
    state_store store{lmdb_options(path, 16)};
    store.table<int, int>("t")->upsert(1) = 1;
    store.checkpoint(1);
  }
  {
    std::ofstream data{path + "/data.mdb", std::ios::binary | std::ios::trunc};
    data << std::string(64 * 1024, '\x5a');
  }
  state_store store{lmdb_options(path, 16)};
  CHECK_THROWS_AS((store.table<int, int>("t")), state_error);
  CHECK_THROWS_WITH((store.table<int, int>("t")), Catch::Contains(path));
}

TEST_CASE("a type LMDB cannot store is a clear error, and fine in memory") {
  test::temp_dir dir;
  state_store lmdb{lmdb_options(dir.file("opaque"), 16)};
  CHECK_THROWS_WITH((lmdb.table<int, opaque>("o")), Catch::Contains("cannot be stored in LMDB"));
  state_store memory;
  memory.table<int, opaque>("o")->upsert(1).x = 3;
  CHECK(memory.table<int, opaque>("o")->find(1)->x == 3);
}
