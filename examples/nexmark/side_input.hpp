#pragma once

#include <cstdint>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <string>
#include <unordered_map>

namespace sluice::nexmark::queries {

/// A bounded side input: a value per key, read before the job starts.
using side_input = std::unordered_map<int64_t, std::string>;

/// The side input of Flink's Nexmark (its side_input_gen.sh): keys 0 to 9,999, each the value
/// of its own number.
inline std::shared_ptr<const side_input> default_side_input() {
  auto rows = std::make_shared<side_input>();
  for (int64_t key = 0; key < 10'000; ++key)
    rows->emplace(key, std::to_string(key));
  return rows;
}

/// A side input from a file of "key,value" lines.
/// @throws std::runtime_error naming the file and line that is not "<integer>,<value>".
inline std::shared_ptr<const side_input> read_side_input(const std::string& path) {
  std::ifstream in{path};
  if (!in)
    throw std::runtime_error("cannot read the side input " + path);
  auto rows = std::make_shared<side_input>();
  std::string line;
  for (size_t number = 1; std::getline(in, line); ++number) {
    auto comma = line.find(',');
    size_t used = 0;
    int64_t key = 0;
    try {
      key = std::stoll(line.substr(0, comma), &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (comma == std::string::npos || used != comma)
      throw std::runtime_error(path + ":" + std::to_string(number)
                               + ": a side input line is \"<integer key>,<value>\", not \"" + line
                               + "\"");
    rows->insert_or_assign(key, line.substr(comma + 1));
  }
  return rows;
}

} // namespace sluice::nexmark::queries
