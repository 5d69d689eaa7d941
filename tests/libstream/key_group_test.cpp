// key -> key_hash -> key group -> instance range

#include <catch2/catch.hpp>

#include <set>
#include <string>

#include "sluice/key_group.hpp"

using namespace sluice;

TEST_CASE("key hashes are stable values, not per-process seeds") {
  // Fixed expectations: a change here moves keyed state between instances across versions.
  CHECK(key_hash<std::string>{}("sluice") == hash_bytes("sluice", 6));
  CHECK(key_hash<std::string>{}("sluice") == key_hash<std::string_view>{}("sluice"));
  CHECK(key_hash<int>{}(1) != key_hash<int>{}(2));
  CHECK(key_group_of(std::string{"word"}, 128) == key_group_of(std::string{"word"}, 128));
}

TEST_CASE("key groups are assigned to instances in contiguous ranges covering all of them") {
  for (uint32_t parallelism : {1u, 2u, 3u, 4u, 7u, 128u}) {
    uint32_t previous = 0;
    std::set<uint32_t> used;
    for (uint32_t group = 0; group < 128; ++group) {
      auto instance = instance_of_key_group(group, parallelism, 128);
      REQUIRE(instance < parallelism);
      REQUIRE(instance >= previous);
      previous = instance;
      used.insert(instance);
    }
    CHECK(used.size() == parallelism);
  }
}

TEST_CASE("consecutive integer keys spread over all key groups") {
  std::set<uint32_t> groups;
  for (int key = 0; key < 10000; ++key)
    groups.insert(key_group_of(key, 128));
  CHECK(groups.size() == 128);
}
