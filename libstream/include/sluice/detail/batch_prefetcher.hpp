#pragma once

#include <cstddef>
#include <utility>
#include <vector>

#include "sluice/record.hpp"

namespace sluice::detail {

/// Prefetches the state of the keys of a batch a few records ahead of the one a keyed operator
/// processes, so that their cache misses overlap (see keyed_lookup::prefetch): call `next()` as
/// each record's processing begins. `prefetch_key(value)` prefetches the state of the key of a
/// record's value.
template <class T, class PrefetchKey>
class batch_prefetcher {
public:
  /// An inactive prefetcher (the operator has no state to load yet) does nothing.
  batch_prefetcher(bool active, const std::vector<record<T>>& records, PrefetchKey prefetch_key)
    : records_(&records),
      prefetch_key_(std::move(prefetch_key)),
      next_(active ? 0 : records.size()) {
    for (size_t i = 0; i < distance; ++i)
      next();
  }

  void next() {
    if (next_ < records_->size())
      prefetch_key_((*records_)[next_++].value);
  }

  /// Far enough ahead for a miss to be served while the records between are processed, near
  /// enough for what it loaded to stay in the first-level cache.
  static constexpr size_t distance = 16;

private:
  const std::vector<record<T>>* records_;
  PrefetchKey prefetch_key_;
  size_t next_;
};

} // namespace sluice::detail
