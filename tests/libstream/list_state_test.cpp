// list state: take() hands the current key's list over and removes it, in memory, with a TTL
// and in LMDB across a checkpoint and a reopen

#include <catch2/catch.hpp>

#include <memory>
#include <vector>

#include "support/test_support.hpp"

using namespace sluice;
using namespace std::chrono_literals;

namespace {

/// Adds 1..n to key 1's list and 100 to key 2's, takes key 1's list, and checks what is left.
void take_one_key(const std::shared_ptr<keyed_table<int, std::vector<int>>>& table) {
  const int* key = nullptr;
  const int* const* current = &key;
  list_state<int, int> list{table, current};
  int one = 1;
  int two = 2;
  key = &one;
  for (int i = 1; i <= 5; ++i)
    list.add(i);
  key = &two;
  list.add(100);

  key = &one;
  CHECK(list.take() == std::vector<int>{1, 2, 3, 4, 5});
  CHECK(list.get().empty());
  CHECK(table->find(1) == nullptr); // removed, not left as an empty list
  CHECK(list.take().empty());       // nothing left to take
  list.add(6);                      // a new list starts afresh
  CHECK(list.get() == std::vector<int>{6});
  key = &two;
  CHECK(list.get() == std::vector<int>{100});
}

} // namespace

TEST_CASE("list state's take returns the key's list and removes it, in memory") {
  take_one_key(std::make_shared<memory_table<int, std::vector<int>>>());
}

TEST_CASE("list state's take of an expired list returns nothing") {
  timestamp now = 0;
  auto inner = std::make_shared<memory_table<int, timed_value<std::vector<int>>>>();
  auto table = std::make_shared<ttl_table<int, std::vector<int>>>(inner, state_ttl{100ms},
                                                                  [&] { return now; });
  take_one_key(table);

  const int* key = nullptr;
  list_state<int, int> list{table, &key};
  int three = 3;
  key = &three;
  list.add(7);
  now = 150; // expired
  CHECK(list.take().empty());
  CHECK(inner->find(3) == nullptr);
}

TEST_CASE("list state's take in LMDB removes the list from the next checkpoint") {
  for (size_t overlay : {size_t{1}, size_t{1} << 20}) {
    INFO("overlay of " << overlay << " entries");
    test::temp_dir dir;
    state_options options;
    options.backend = state_backend::lmdb;
    options.directory = dir.file("s");
    options.overlay_entries = overlay;
    {
      state_store store{options};
      auto table = store.table<int, std::vector<int>>("lists");
      const int* key = nullptr;
      list_state<int, int> list{table, &key};
      int one = 1;
      int two = 2;
      key = &one;
      list.add(1);
      list.add(2);
      key = &two;
      list.add(3);
      store.checkpoint(1);
      store.complete(1);
      key = &one;
      CHECK(list.take() == std::vector<int>{1, 2}); // read back from LMDB when it spilled
      store.checkpoint(2);
      store.complete(2);
    }
    state_store store{options};
    auto table = store.table<int, std::vector<int>>("lists");
    CHECK(table->find(1) == nullptr);
    REQUIRE(table->find(2) != nullptr);
    CHECK(*table->find(2) == std::vector<int>{3});
  }
}
