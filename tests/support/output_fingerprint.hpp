#pragma once

#include <cstdint>
#include <fstream>
#include <functional>
#include <string>

namespace sluice::test {

/// An order-independent fingerprint of the lines of a job's output file (parallel instances
/// interleave differently in every run): how many lines, and two sums of line hashes. Two files
/// with the same lines in any order have the same fingerprint; a missing or repeated line
/// changes it.
struct fingerprint {
  uint64_t lines = 0;
  uint64_t sum = 0;
  uint64_t mixed_sum = 0;

  bool operator==(const fingerprint&) const = default;
};

inline fingerprint output_fingerprint(const std::string& path) {
  fingerprint f;
  std::ifstream in{path};
  std::hash<std::string> hash;
  for (std::string line; std::getline(in, line);) {
    auto h = static_cast<uint64_t>(hash(line));
    ++f.lines;
    f.sum += h;
    f.mixed_sum += (h ^ (h >> 29)) * 0xbf58476d1ce4e5b9ULL;
  }
  return f;
}

} // namespace sluice::test
