#pragma once

// Jobs that count words keyed "k0" ... "k96": their running counts must come out exact, whatever
// failed in between.

#include <catch2/catch.hpp>

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "sluice/all.hpp"

namespace sluice::test {

using changelog = std::vector<std::pair<std::string, int64_t>>;

/// The keys words spread over, and the key of the index-th word.
constexpr uint64_t keys = 97;

inline std::string key_of(uint64_t index) {
  return "k" + std::to_string(index % keys);
}

/// What differs between the counts a key was seen with and 1, 2, ..., `expected`: the counts
/// missing and those seen more than once; empty if none.
inline std::string count_differences(const std::vector<int64_t>& seen, int64_t expected) {
  std::map<int64_t, size_t> times;
  for (auto n : seen)
    ++times[n];
  std::string missing, repeated;
  for (int64_t n = 1; n <= expected; ++n) {
    if (times.count(n) > 0)
      continue;
    auto first = n;
    while (n < expected && times.count(n + 1) == 0)
      ++n;
    missing += " " + std::to_string(first) + (n > first ? "-" + std::to_string(n) : "");
  }
  for (const auto& [n, t] : times)
    if (t > 1 || n < 1 || n > expected)
      repeated += " " + std::to_string(n) + " (" + std::to_string(t) + " times)";
  if (missing.empty() && repeated.empty())
    return {};
  return "missing:" + missing + "; repeated or extra:" + repeated;
}

/// Every key's running counts 1, 2, ..., n appear once each, n being its true count: nothing
/// lost, nothing twice, whatever failed in between.
inline void check_exact(const changelog& out, uint64_t records) {
  std::map<std::string, std::vector<int64_t>> counts;
  for (const auto& [key, n] : out)
    counts[key].push_back(n);
  REQUIRE(counts.size() == keys);
  for (auto& [key, seen] : counts) {
    auto expected =
      static_cast<int64_t>(records / keys + (std::stoul(key.substr(1)) < records % keys));
    INFO("key " << key);
    CHECK(count_differences(seen, expected) == "");
  }
}

/// Waits for the job's end: no error, and exact counts.
inline void check_ends_exact(job& j, const changelog& out, uint64_t records) {
  auto error = j.wait();
  INFO(describe(error));
  REQUIRE_FALSE(error);
  check_exact(out, records);
}

} // namespace sluice::test
