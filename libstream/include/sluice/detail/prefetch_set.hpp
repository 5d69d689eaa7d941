#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "sluice/keyed_table.hpp"

namespace sluice::detail {

/// The tables whose entries a keyed operator prefetches for the records ahead of the one it
/// processes (see keyed_lookup::prefetch): of the tables its function has a handle of, those
/// the function looked up for at least a quarter of the records of the batch before, and all
/// at the first batch. A table read for a few records only, say the one holding records that
/// wait for their key's first value, costs a cache miss per record to prefetch and saves few.
template <class K>
class prefetch_set {
public:
  /// The function has a handle of `table` (nothing if it had one already).
  void remember(std::shared_ptr<keyed_lookup<K>> table) {
    auto known = std::any_of(tables_.begin(), tables_.end(),
                             [&](const counted& c) { return c.table == table; });
    if (!known) {
      auto lookups = table->lookups();
      tables_.push_back({std::move(table), lookups});
    }
  }

  /// A batch of `records` begins: chooses the tables to prefetch by what the batch before
  /// looked up.
  void begin_batch(size_t records) {
    chosen_.clear();
    for (auto& c : tables_) {
      auto now = c.table->lookups();
      if (4 * (now - c.lookups) >= last_batch_)
        chosen_.push_back(c.table.get());
      c.lookups = now;
    }
    last_batch_ = records;
  }

  /// Starts loading the entries of `key` in the tables chosen.
  void prefetch(const K& key) const {
    for (const auto* t : chosen_)
      t->prefetch(key);
  }

  /// Whether any table is chosen.
  [[nodiscard]] bool any() const noexcept { return !chosen_.empty(); }

private:
  struct counted {
    std::shared_ptr<keyed_lookup<K>> table;
    /// Its lookups when the last batch began.
    uint64_t lookups = 0;
  };

  std::vector<counted> tables_;
  std::vector<const keyed_lookup<K>*> chosen_;
  /// Records in the batch before (none before the first).
  size_t last_batch_ = 0;
};

} // namespace sluice::detail
