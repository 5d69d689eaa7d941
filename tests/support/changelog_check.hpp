#pragma once

// Checks of a table's changelog (table_change records) as a job emitted it.

#include <catch2/catch.hpp>

#include <cstddef>
#include <map>
#include <optional>
#include <vector>

#include "sluice/table.hpp"

namespace sluice::test {

/// Checks that `changes` is a consistent changelog (each change of a key starts from the value
/// the one before left: nothing lost, nothing repeated) ending at `expected`.
template <class K, class V>
void check_changelog(const std::vector<table_change<K, V>>& changes,
                     const std::map<K, V>& expected) {
  std::map<K, std::optional<V>> current;
  size_t broken = 0;
  for (const auto& c : changes) {
    auto& value = current[c.key];
    if (c.old_value != value)
      ++broken;
    value = c.new_value;
  }
  CHECK(broken == 0);
  std::map<K, V> ended;
  for (const auto& [key, value] : current)
    if (value)
      ended.emplace(key, *value);
  CHECK(ended.size() == expected.size());
  bool identical = ended == expected; // not printed: hundreds of keys
  CHECK(identical);
}

} // namespace sluice::test
