#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <type_traits>
#include <utility>

#include "sluice/context.hpp"
#include "sluice/operator.hpp"
#include "sluice/operators/index_split.hpp"

namespace sluice {

/// Options of a generator source.
struct generator_options {
  /// Number of records in all; unbounded when empty.
  std::optional<uint64_t> count;
  /// Records per second over all instances; unlimited when 0.
  double rate = 0;
  /// How far event time may run behind the largest seen before the watermark passes it.
  std::chrono::milliseconds out_of_orderness{0};
};

} // namespace sluice

namespace sluice::op {

/// A source that calls `fn(index)` for index 0, 1, 2, ...: bounded by `count` or unbounded,
/// optionally rate limited. Instance i of n generates the indices i, i + n, i + 2n, ... (its
/// index_split; checkpoints keep the splits, and a restore with another parallelism deals them
/// out anew). Each split is a split for a watermark strategy given to the source, named by the
/// instance it started with.
///
/// Event time comes from `time(index, value)` if given; the watermark then trails the largest
/// event time by `out_of_orderness` (watermark_behind), so a record that much older than the
/// newest is on time. Without it, event time is the wall-clock time in ms.
template <class T, class F>
class generator {
public:
  using output_type = T;
  using timestamp_fn = std::function<timestamp(uint64_t, const T&)>;

  generator(F fn, generator_options options, timestamp_fn time = {})
    : fn_(std::move(fn)), options_(options), time_(std::move(time)) {}

  [[nodiscard]] bool bounded() const { return options_.count.has_value(); }

  void open(source_context<T>& ctx) {
    splits_.start(ctx.info().index, ctx.info().parallelism);
    if (options_.rate > 0)
      rate_per_instance_ = options_.rate / ctx.info().parallelism;
    started_ = std::chrono::steady_clock::now();
  }

  source_step produce(source_context<T>& ctx, size_t max_records) {
    auto budget = max_records;
    if (rate_per_instance_ > 0) {
      auto elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_);
      auto due = static_cast<uint64_t>(elapsed.count() * rate_per_instance_);
      if (due <= produced_) {
        // Waits for the next record, but at least a millisecond: waking for every few records
        // costs a wake-up of the whole pipeline each time, for records a millisecond apart.
        auto wait = (static_cast<double>(produced_ + 1) / rate_per_instance_) - elapsed.count();
        return source_step::wait(
          std::max(min_rate_wait, std::chrono::microseconds{static_cast<int64_t>(wait * 1e6)}));
      }
      budget = std::min<uint64_t>(budget, due - produced_);
    }
    auto n = budget;
    if (options_.count)
      n = std::min<uint64_t>(n, splits_.remaining(*options_.count));
    if (time_) {
      auto max_time = min_timestamp;
      splits_.take(n, ctx, [&](uint64_t index) {
        T value = std::invoke(fn_, index);
        auto time = time_(index, value);
        max_time = std::max(max_time, time);
        ctx.emit(std::move(value), time);
      });
      if (max_time != min_timestamp)
        ctx.emit_watermark(watermark_behind(max_time, options_.out_of_orderness.count()));
    } else {
      auto wall = wall_clock_now();
      splits_.take(n, ctx, [&](uint64_t index) { ctx.emit(std::invoke(fn_, index), wall); });
    }
    if (options_.count)
      splits_.end_exhausted(*options_.count, ctx);
    produced_ += n;
    bool exhausted =
      options_.count ? splits_.remaining(*options_.count) == 0 : splits_.splits().empty();
    return exhausted ? source_step::done() : source_step::more();
  }

  /// Checkpoints keep the splits; restoring continues from them.
  [[nodiscard]] std::vector<index_split> checkpoint_splits() const { return splits_.splits(); }
  void restore_splits(std::vector<index_split> splits) { splits_.assign(std::move(splits)); }

private:
  static constexpr std::chrono::microseconds min_rate_wait{1000};

  F fn_;
  generator_options options_;
  timestamp_fn time_;
  index_splits splits_;
  uint64_t produced_ = 0;
  double rate_per_instance_ = 0;
  std::chrono::steady_clock::time_point started_;
};

} // namespace sluice::op

namespace sluice {

/// A source of `fn(index)` for index 0, 1, 2, ... (see op::generator).
template <class T, class F>
op::generator<T, F> generate(F fn, generator_options options = {},
                             typename op::generator<T, F>::timestamp_fn time = {}) {
  static_assert(std::is_invocable_r_v<T, F&, uint64_t>, "generate<T> expects fn(uint64_t) -> T");
  return op::generator<T, F>{std::move(fn), options, std::move(time)};
}

} // namespace sluice
