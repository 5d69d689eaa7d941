#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include <caf/meta/type_name.hpp>

namespace sluice::op {

/// A share of the indices a counting source reads: `next`, `next + stride`, `next + 2 stride`,
/// ... Instance i of n starts with the split {i, n}. Checkpoints keep each instance's splits as
/// operator state; restored with another parallelism, the old instances' splits are dealt out
/// to the new instances, so every index is still read exactly once.
struct index_split {
  uint64_t next = 0;
  uint64_t stride = 1;

  /// Which split this is, whatever it read: the index of the instance that started with it.
  [[nodiscard]] uint64_t id() const { return next % stride; }

  /// How many of the split's indices below `bound` are still to come.
  [[nodiscard]] uint64_t remaining(uint64_t bound) const {
    return next >= bound ? 0 : (bound - next + stride - 1) / stride;
  }

  friend bool operator==(const index_split&, const index_split&) = default;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, index_split& x) {
  return f(caf::meta::type_name("sluice.index_split"), x.next, x.stride);
}

/// The splits of one source instance, read in index order: each index taken is the smallest
/// next index of all splits, so event time derived from indices stays ordered across splits.
class index_splits {
public:
  /// The splits of instance `index` of `parallelism` when nothing is restored.
  void start(uint64_t index, uint64_t parallelism) { splits_ = {index_split{index, parallelism}}; }

  void assign(std::vector<index_split> splits) { splits_ = std::move(splits); }

  [[nodiscard]] const std::vector<index_split>& splits() const noexcept { return splits_; }

  /// How many indices below `bound` are still to come over all splits.
  [[nodiscard]] uint64_t remaining(uint64_t bound) const {
    uint64_t n = 0;
    for (const auto& s : splits_)
      n += s.remaining(bound);
    return n;
  }

  /// Calls `fn(index)` for the next `n` indices, in index order, and tells `ctx` which split
  /// each comes from (`begin_split`); the caller makes sure that `n` are left.
  template <class Context, class F>
  void take(uint64_t n, Context& ctx, F&& fn) {
    if (splits_.size() == 1) {
      auto& s = splits_.front();
      ctx.begin_split(s.id());
      for (uint64_t i = 0; i < n; ++i, s.next += s.stride)
        fn(s.next);
      return;
    }
    auto by_next = [](const index_split& a, const index_split& b) { return a.next < b.next; };
    for (uint64_t i = 0; i < n; ++i) {
      auto& s = *std::min_element(splits_.begin(), splits_.end(), by_next);
      ctx.begin_split(s.id());
      fn(s.next);
      s.next += s.stride;
    }
  }

  /// Tells `ctx` of the splits that have no index below `bound` left (`end_split`).
  template <class Context>
  void end_exhausted(uint64_t bound, Context& ctx) const {
    for (const auto& s : splits_) {
      if (s.remaining(bound) == 0)
        ctx.end_split(s.id());
    }
  }

private:
  std::vector<index_split> splits_;
};

} // namespace sluice::op
