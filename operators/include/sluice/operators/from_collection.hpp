#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <utility>
#include <vector>

#include "sluice/context.hpp"
#include "sluice/operator.hpp"
#include "sluice/operators/index_split.hpp"

namespace sluice::op {

/// A bounded source over the elements of a vector. Instance i of n emits the elements at
/// positions i, i + n, i + 2n, ... in order (its index_split, a split for a watermark strategy
/// given to the source); event time comes from an optional
/// function (0 otherwise), and the watermark follows the largest event time emitted (just below
/// it: a record at that very time is still on time).
template <class T>
class from_collection {
public:
  using output_type = T;
  using timestamp_fn = std::function<timestamp(const T&)>;

  explicit from_collection(std::vector<T> items, timestamp_fn time = {})
    : items_(std::make_shared<const std::vector<T>>(std::move(items))), time_(std::move(time)) {}

  [[nodiscard]] bool bounded() const { return true; }

  void open(source_context<T>& ctx) { splits_.start(ctx.info().index, ctx.info().parallelism); }

  source_step produce(source_context<T>& ctx, size_t max_records) {
    const auto& items = *items_;
    auto max_time = min_timestamp;
    auto n = std::min<uint64_t>(max_records, splits_.remaining(items.size()));
    splits_.take(n, ctx, [&](uint64_t index) {
      auto time = time_ ? time_(items[index]) : timestamp{0};
      max_time = std::max(max_time, time);
      ctx.emit(T(items[index]), time);
    });
    splits_.end_exhausted(items.size(), ctx);
    if (time_ && max_time != min_timestamp)
      ctx.emit_watermark(watermark_behind(max_time, 0));
    return splits_.remaining(items.size()) > 0 ? source_step::more() : source_step::done();
  }

  /// Checkpoints keep the splits; restoring continues from them.
  [[nodiscard]] std::vector<index_split> checkpoint_splits() const { return splits_.splits(); }
  void restore_splits(std::vector<index_split> splits) { splits_.assign(std::move(splits)); }

private:
  std::shared_ptr<const std::vector<T>> items_;
  timestamp_fn time_;
  index_splits splits_;
};

} // namespace sluice::op

namespace sluice {

/// A bounded source over `items`; event time from `time(item)` if given, else 0.
template <class T>
op::from_collection<T> from_collection(std::vector<T> items,
                                       typename op::from_collection<T>::timestamp_fn time = {}) {
  return op::from_collection<T>{std::move(items), std::move(time)};
}

} // namespace sluice
