#pragma once

// The check of the tests whose count jobs write to Kafka with the exactly-once sink: every
// running count once, as a read_committed consumer sees it.

#include <catch2/catch.hpp>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "support/kafka_support.hpp"

namespace sluice::test {

/// Checks that a read_committed consumer of `topic` (`partitions` partitions, at `bootstrap`)
/// sees every word of `expected` with its counts 1..n, each exactly once and in order, n being
/// the word's count there; and no other word.
inline void check_counts_once(const std::string& bootstrap, const std::string& topic,
                              int partitions, const std::map<std::string, int64_t>& expected) {
  std::map<std::string, std::vector<int64_t>> seen;
  for (const auto& m : read_topic(bootstrap, topic, partitions))
    seen[m.key].push_back(std::stoll(m.value));
  REQUIRE(seen.size() == expected.size());
  for (const auto& [word, n] : expected) {
    INFO("word " << word);
    std::vector<int64_t> counts;
    for (int64_t c = 1; c <= n; ++c)
      counts.push_back(c);
    CHECK(seen[word] == counts);
  }
}

} // namespace sluice::test
