#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <utility>
#include <vector>

#include "sluice/context.hpp"
#include "sluice/operator.hpp"

namespace sluice::op {

/// A bounded source over the elements of a vector. Instance i of n emits the elements at
/// positions i, i + n, i + 2n, ... in order; event time comes from an optional function
/// (0 otherwise), and the watermark follows the largest event time emitted.
template <class T>
class from_collection {
public:
  using output_type = T;
  using timestamp_fn = std::function<timestamp(const T&)>;

  explicit from_collection(std::vector<T> items, timestamp_fn time = {})
    : items_(std::make_shared<const std::vector<T>>(std::move(items))), time_(std::move(time)) {}

  [[nodiscard]] bool bounded() const { return true; }

  void open(source_context<T>& ctx) {
    next_ = ctx.info().index;
    stride_ = ctx.info().parallelism;
  }

  source_step produce(source_context<T>& ctx, size_t max_records) {
    const auto& items = *items_;
    auto max_time = min_timestamp;
    for (size_t n = 0; n < max_records && next_ < items.size(); ++n, next_ += stride_) {
      auto time = time_ ? time_(items[next_]) : timestamp{0};
      max_time = std::max(max_time, time);
      ctx.emit(T{items[next_]}, time);
    }
    if (time_ && max_time != min_timestamp)
      ctx.emit_watermark(max_time);
    return next_ < items.size() ? source_step::more() : source_step::done();
  }

  /// The next index (checkpoints record it; restoring continues from there).
  [[nodiscard]] uint64_t checkpoint_position() const { return next_; }
  void restore_position(uint64_t next) { next_ = next; }

private:
  std::shared_ptr<const std::vector<T>> items_;
  timestamp_fn time_;
  size_t next_ = 0;
  size_t stride_ = 1;
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
