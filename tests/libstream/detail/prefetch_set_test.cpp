// the tables a keyed operator's function has handles of --> prefetch_set (by what the batch
// before looked up) --> prefetches per record ahead

#include <catch2/catch.hpp>

#include <cstdint>
#include <memory>
#include <vector>

#include "sluice/detail/prefetch_set.hpp"

using sluice::detail::prefetch_set;

namespace {

/// A table that counts the lookups it is told of and the prefetches it gets.
class spy_table final : public sluice::keyed_lookup<int> {
public:
  void prefetch(const int& key) const override { prefetched.push_back(key); }
  uint64_t lookups() const noexcept override { return looked_up; }
  void release_memory() override {}

  uint64_t looked_up = 0;
  mutable std::vector<int> prefetched;
};

} // namespace

TEST_CASE("a table looked up for a quarter of the last batch's records or more is prefetched") {
  auto every = std::make_shared<spy_table>();
  auto quarter = std::make_shared<spy_table>();
  auto rare = std::make_shared<spy_table>();
  prefetch_set<int> set;
  CHECK_FALSE(set.any());
  set.remember(every);
  set.remember(quarter);
  set.remember(rare);
  set.remember(every); // once
  set.begin_batch(100);
  set.prefetch(1);
  // The first batch prefetches every table: nothing tells which pay yet.
  CHECK(every->prefetched == std::vector<int>{1});
  CHECK(quarter->prefetched == std::vector<int>{1});
  CHECK(rare->prefetched == std::vector<int>{1});
  every->looked_up += 100;
  quarter->looked_up += 25;
  rare->looked_up += 24;
  set.begin_batch(8);
  CHECK(set.any());
  set.prefetch(2);
  CHECK(every->prefetched == std::vector<int>{1, 2});
  CHECK(quarter->prefetched == std::vector<int>{1, 2});
  CHECK(rare->prefetched == std::vector<int>{1});
  // Counted per batch: the rare table, read for most records of a small batch, is prefetched
  // again; a table not read at all is not.
  every->looked_up += 8;
  rare->looked_up += 5;
  set.begin_batch(10);
  set.prefetch(3);
  CHECK(every->prefetched == std::vector<int>{1, 2, 3});
  CHECK(quarter->prefetched == std::vector<int>{1, 2});
  CHECK(rare->prefetched == std::vector<int>{1, 3});
  set.begin_batch(10);
  CHECK_FALSE(set.any());
}

TEST_CASE("a table taken during a batch counts from then on") {
  auto early = std::make_shared<spy_table>();
  early->looked_up = 1000; // served other handles before
  prefetch_set<int> set;
  set.begin_batch(10);
  CHECK_FALSE(set.any()); // no handle yet
  set.remember(early);
  early->looked_up += 2; // 2 of the batch's 10 records
  set.begin_batch(10);
  CHECK_FALSE(set.any());
  early->looked_up += 3;
  set.begin_batch(10);
  CHECK(set.any());
}
