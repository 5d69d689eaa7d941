#include "verdict.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <stdexcept>

namespace chaos {

namespace {

/// What differs in one key's sorted sums; empty if they are exact.
std::string differences(const std::vector<uint64_t>& sums, uint64_t key, uint64_t records,
                        uint64_t& repeated) {
  // The key's numbers, ascending: key, key + keys, ... (0 is no number).
  std::vector<uint64_t> expected;
  for (uint64_t v = key == 0 ? keys : key; v <= records; v += keys)
    expected.push_back(v);
  std::vector<uint64_t> steps;
  uint64_t last = 0;
  uint64_t twice = 0;
  for (auto s : sums) {
    if (s == last) {
      ++twice;
      continue;
    }
    steps.push_back(s - last);
    last = s;
  }
  repeated += twice;
  std::sort(steps.begin(), steps.end());
  if (twice == 0 && steps == expected)
    return {};
  std::vector<uint64_t> missing, extra;
  std::set_difference(expected.begin(), expected.end(), steps.begin(), steps.end(),
                      std::back_inserter(missing));
  std::set_difference(steps.begin(), steps.end(), expected.begin(), expected.end(),
                      std::back_inserter(extra));
  return "key " + std::to_string(key) + ": " + std::to_string(sums.size()) + " sums for "
         + std::to_string(expected.size()) + " numbers, " + std::to_string(twice) + " seen twice, "
         + std::to_string(missing.size()) + " numbers no step takes, "
         + std::to_string(extra.size()) + " steps too many (a number twice, or several at once)";
}

} // namespace

verdict check(std::vector<sum_record> results, uint64_t records) {
  verdict v;
  v.results = results.size();
  std::map<uint64_t, std::vector<uint64_t>> sums;
  for (const auto& [key, sum] : results)
    sums[key].push_back(sum);
  for (uint64_t key = 0; key < keys && key <= records; ++key) {
    auto& seen = sums[key];
    std::sort(seen.begin(), seen.end());
    auto what = differences(seen, key, records, v.repeated);
    if (what.empty())
      continue;
    if (++v.keys_wrong <= 3)
      v.detail += (v.detail.empty() ? "" : "; ") + what;
  }
  for (const auto& [key, seen] : sums)
    if (key >= keys) {
      ++v.keys_wrong;
      v.detail += "; a key that no number has: " + std::to_string(key);
    }
  return v;
}

std::vector<sum_record> read_results(const std::string& path) {
  std::vector<std::string> files;
  if (std::filesystem::exists(path))
    files.push_back(path);
  for (int i = 0; std::filesystem::exists(path + ".part-" + std::to_string(i)); ++i)
    files.push_back(path + ".part-" + std::to_string(i));
  std::vector<sum_record> results;
  for (const auto& file : files) {
    std::ifstream in{file};
    uint64_t number = 0;
    for (std::string line; std::getline(in, line);) {
      ++number;
      auto comma = line.find(',');
      try {
        if (comma == std::string::npos)
          throw std::invalid_argument("no comma");
        size_t end = 0;
        auto key = std::stoull(line.substr(0, comma), &end);
        auto sum = std::stoull(line.substr(comma + 1), &end);
        results.emplace_back(key, sum);
      } catch (const std::exception&) {
        throw std::runtime_error(file + ":" + std::to_string(number) + ": not \"key,sum\": '" + line
                                 + "'");
      }
    }
  }
  return results;
}

} // namespace chaos
