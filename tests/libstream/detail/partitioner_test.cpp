// record --> partitioner --> channel(s) of one edge

#include <catch2/catch.hpp>

#include <map>
#include <vector>

#include "sluice/detail/partitioner.hpp"

using sluice::partitioning;
using sluice::detail::partitioner;

namespace {

std::vector<size_t> route_all(partitioner<int>& p, int from, int to) {
  std::vector<size_t> channels;
  for (int v = from; v < to; ++v)
    p.route(int{v}, [&](size_t channel, int&&) { channels.push_back(channel); });
  return channels;
}

} // namespace

TEST_CASE("a rebalance turns to the next channel after a batch's worth of records") {
  partitioner<int> p{partitioning::rebalance, {}, 128, 3, 2};
  CHECK(route_all(p, 0, 8) == std::vector<size_t>{0, 0, 1, 1, 2, 2, 0, 0});
}

TEST_CASE("a resumed rebalance goes on where the count puts it") {
  partitioner<int> full{partitioning::rebalance, {}, 128, 3, 2};
  auto all = route_all(full, 0, 9);
  partitioner<int> resumed{partitioning::rebalance, {}, 128, 3, 2};
  resumed.resume_at(5);
  CHECK(route_all(resumed, 5, 9) == std::vector<size_t>(all.begin() + 5, all.end()));
}

TEST_CASE("hash partitioning sends equal keys to the same channel and spreads distinct ones") {
  partitioner<int> p{partitioning::hash, [](const int& v) { return static_cast<uint64_t>(v); }, 128,
                     4, 1024};
  auto first = route_all(p, 0, 128);
  auto again = route_all(p, 0, 128);
  CHECK(first == again);
  std::map<size_t, int> per_channel;
  for (auto c : first)
    ++per_channel[c];
  CHECK(per_channel.size() == 4);
  for (auto [channel, n] : per_channel)
    CHECK(n == 32); // key groups 0..127 in four ranges
}

TEST_CASE("hash partitioning sends a record to the instance that owns its key group") {
  // A power of two (routed by mask and shift) and others (by division) at several parallelisms,
  // over hashes that use all 64 bits.
  for (uint32_t max_parallelism : {128u, 4096u, 1u, 100u, 129u, 32767u}) {
    for (uint32_t parallelism : {2u, 3u, 4u, 7u}) {
      if (parallelism > max_parallelism)
        continue;
      partitioner<uint64_t> p{partitioning::hash, [](const uint64_t& h) { return h; },
                              max_parallelism, parallelism, 1024};
      uint64_t hash = 0x9e3779b97f4a7c15;
      for (int i = 0; i < 2000; ++i) {
        hash = hash * 6364136223846793005u + 1442695040888963407u;
        auto group = static_cast<uint32_t>(hash % max_parallelism);
        auto owner = sluice::instance_of_key_group(group, parallelism, max_parallelism);
        p.route(uint64_t{hash}, [&](size_t channel, uint64_t&&) {
          INFO("max parallelism " << max_parallelism << ", parallelism " << parallelism << ", hash "
                                  << hash);
          CHECK(channel == owner);
        });
      }
    }
  }
}

TEST_CASE("hash partitioning to a single instance delivers without hashing") {
  int hashed = 0;
  partitioner<int> p{partitioning::hash,
                     [&](const int& v) {
                       ++hashed;
                       return static_cast<uint64_t>(v);
                     },
                     128, 1, 1024};
  CHECK(route_all(p, 0, 50) == std::vector<size_t>(50, 0));
  CHECK(hashed == 0);
}

TEST_CASE("a broadcast hands every record to every channel") {
  partitioner<int> p{partitioning::broadcast, {}, 128, 3, 1024};
  std::vector<std::pair<size_t, int>> got;
  p.route(7, [&](size_t c, int&& v) { got.emplace_back(c, v); });
  CHECK(got == std::vector<std::pair<size_t, int>>{{1, 7}, {2, 7}, {0, 7}});
}
