// key_map: random operations against std::unordered_map as the model, with hashes that collide
// (long runs of full slots that wrap around the end) and keys that own memory.

#include <catch2/catch.hpp>

#include <cstdint>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <unordered_map>
#include <utility>

#include "sluice/detail/key_map.hpp"

using sluice::detail::key_map;

namespace {

/// Few distinct hashes, all near the end of a small table: every key collides with others
/// and runs wrap around to slot 0.
struct colliding_hash {
  size_t operator()(const std::string& key) const { return ~size_t{0} - key.size() % 5; }
};

struct spread_hash {
  size_t operator()(const std::string& key) const { return std::hash<std::string>{}(key); }
};

template <class Map>
std::map<std::string, int> contents(const Map& map) {
  std::map<std::string, int> result;
  for (const auto& [key, value] : map) {
    CHECK(result.emplace(key, value).second); // iteration meets each entry once
  }
  return result;
}

std::map<std::string, int> sorted(const std::unordered_map<std::string, int>& model) {
  return {model.begin(), model.end()};
}

template <class Hash>
void random_operations(uint32_t seed, size_t key_range) {
  std::mt19937 rng{seed};
  key_map<std::string, int, Hash> map;
  std::unordered_map<std::string, int> model;
  auto key = [&] { return "key-" + std::to_string(rng() % key_range); };
  for (int step = 0; step < 20'000; ++step) {
    auto k = key();
    switch (rng() % 8) {
      case 0:
      case 1: { // upsert
        auto value = static_cast<int>(rng() % 1000);
        auto [i, made] = map.try_emplace(k);
        CHECK(made == !model.contains(k));
        i->second = value;
        model[k] = value;
        break;
      }
      case 2: { // emplace keeps what is there
        auto [i, made] = map.emplace(k, 7);
        auto [m, model_made] = model.emplace(k, 7);
        CHECK(made == model_made);
        CHECK(i->second == m->second);
        break;
      }
      case 3: { // find
        auto i = map.find(k);
        auto m = model.find(k);
        REQUIRE((i == map.end()) == (m == model.end()));
        if (m != model.end())
          CHECK(i->second == m->second);
        CHECK(map.contains(k) == model.contains(k));
        break;
      }
      case 4: // erase by key
        CHECK(map.erase(k) == model.erase(k));
        break;
      case 5: // erase by iterator
        if (auto i = map.find(k); i != map.end()) {
          map.erase(i);
          model.erase(k);
        }
        break;
      case 6: // erase_if, now and then
        if (rng() % 50 == 0) {
          auto mod = static_cast<int>(rng() % 3 + 2);
          map.erase_if([&](const auto& entry) { return entry.second % mod == 0; });
          std::erase_if(model, [&](const auto& entry) { return entry.second % mod == 0; });
        }
        break;
      case 7: // copy, move away and back, or clear, rarely
        if (rng() % 700 == 0) {
          auto copy = map;
          REQUIRE(contents(copy) == sorted(model));
          copy.erase(k); // the copy is apart from the original
          CHECK(map.contains(k) == model.contains(k));
          map = copy;
          model.erase(k);
        } else if (rng() % 500 == 0) {
          auto moved = std::move(map);
          CHECK(map.empty());
          CHECK(map.find(k) == map.end());
          map = std::move(moved);
        } else if (rng() % 2000 == 0) {
          map.clear();
          model.clear();
        }
        break;
    }
    REQUIRE(map.size() == model.size());
    if (step % 1000 == 0)
      REQUIRE(contents(map) == sorted(model));
  }
  REQUIRE(contents(map) == sorted(model));
}

} // namespace

TEST_CASE("key_map behaves as a hash map under random operations") {
  for (uint32_t seed : {1u, 2u, 3u}) {
    INFO("seed " << seed);
    SECTION("spread hashes, seed " + std::to_string(seed)) {
      random_operations<spread_hash>(seed, 3000);
    }
    SECTION("colliding hashes that wrap around, seed " + std::to_string(seed)) {
      random_operations<colliding_hash>(seed, 200);
    }
  }
}

TEST_CASE("key_map erase_if meets each entry once and keeps the rest findable") {
  key_map<std::string, int, colliding_hash> map;
  for (int i = 0; i < 100; ++i)
    map.try_emplace("k" + std::to_string(i)).first->second = i;
  int seen = 0;
  map.erase_if([&](const auto& entry) {
    ++seen;
    return entry.second % 2 == 1;
  });
  CHECK(seen == 100);
  CHECK(map.size() == 50);
  for (int i = 0; i < 100; ++i)
    CHECK(map.contains("k" + std::to_string(i)) == (i % 2 == 0));
}

TEST_CASE("key_map prefetch changes nothing") {
  key_map<std::string, int, spread_hash> map;
  map.prefetch("absent"); // an empty map has no slots to load
  map.try_emplace("a").first->second = 1;
  map.prefetch("a");
  map.prefetch("b");
  CHECK(map.size() == 1);
  CHECK(map.find("a")->second == 1);
}

TEST_CASE("key_map keeps its slots while it empties and fills again") {
  key_map<std::string, int, spread_hash> map;
  for (int round = 0; round < 3; ++round) {
    INFO("round " << round);
    for (int i = 0; i < 100'000; ++i)
      map.try_emplace("k" + std::to_string(i)).first->second = i;
    CHECK(map.capacity() == 262'144); // at most half full
    for (int i = 0; i < 100'000; ++i)
      CHECK(map.erase("k" + std::to_string(i)) == 1);
    CHECK(map.capacity() == 262'144); // as a tumbling window's state at each window
  }
}

TEST_CASE("key_map gives back its slots once its entries went for good") {
  key_map<std::string, int, spread_hash> map;
  for (int i = 0; i < 100'000; ++i)
    map.try_emplace("k" + std::to_string(i)).first->second = i;
  CHECK(map.capacity() == 262'144); // at most half full
  for (int i = 10; i < 100'000; ++i)
    CHECK(map.erase("k" + std::to_string(i)) == 1);
  // Sparse since 87,500 entries: it shrinks after as many changes as it has slots.
  for (int i = 0; map.capacity() == 262'144 && i < 200'000; ++i) {
    map.try_emplace("other");
    map.erase("other");
  }
  CHECK(map.capacity() <= 64);
  for (int i = 0; i < 10; ++i)
    CHECK(map.find("k" + std::to_string(i))->second == i);
  map.erase_if([](const auto& entry) { return entry.second > 0; });
  CHECK(map.capacity() == 16);
  CHECK(map.find("k0")->second == 0);
}

namespace {

/// The lines of /proc/self/smaps about the mapping that holds `address`.
std::string mapping_of(const void* address) {
  std::ifstream smaps{"/proc/self/smaps"};
  auto at = reinterpret_cast<uintptr_t>(address);
  std::string line;
  std::string found;
  bool inside = false;
  while (std::getline(smaps, line)) {
    uintptr_t begin = 0;
    uintptr_t end = 0;
    char dash = 0;
    std::istringstream header{line};
    // A mapping's first line: "begin-end perms offset device inode path", in hex.
    if (header >> std::hex >> begin >> dash >> end && dash == '-') {
      if (inside)
        break;
      inside = begin <= at && at < end;
    }
    if (inside)
      found += line + "\n";
  }
  return found;
}

} // namespace

TEST_CASE("key_map puts a table of a huge page or more on memory that may take huge pages") {
  std::ifstream setting{"/sys/kernel/mm/transparent_hugepage/enabled"};
  std::string modes;
  std::getline(setting, modes);
  if (modes.empty() || modes.find("[never]") != std::string::npos) {
    WARN("transparent huge pages are off here: not checked");
    return;
  }
  key_map<uint64_t, uint64_t, std::hash<uint64_t>> map;
  for (uint64_t i = 0; i < 300'000; ++i)
    map.try_emplace(i).first->second = i * 7;
  REQUIRE(map.capacity() * 24 >= (size_t{2} << 20)); // 24: a slot of two uint64_t and a mark
  for (uint64_t i = 0; i < 300'000; i += 1000)
    CHECK(map.find(i)->second == i * 7);
  auto mapping = mapping_of(&*map.begin());
  INFO(mapping);
  // Eligible whether or not the kernel had free huge pages at the time (which a test cannot
  // rely on): with THP on "madvise", only because the map asked.
  auto field = mapping.find("THPeligible:");
  REQUIRE(field != std::string::npos);
  int eligible = 0;
  std::istringstream{mapping.substr(field + 12)} >> eligible;
  CHECK(eligible == 1);
}
