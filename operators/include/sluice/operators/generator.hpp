#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <type_traits>
#include <utility>

#include "sluice/context.hpp"
#include "sluice/operator.hpp"

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
/// optionally rate limited. Instance i of n generates the indices i, i + n, i + 2n, ...
///
/// Event time comes from `time(index, value)` if given; the watermark then trails the largest
/// event time by `out_of_orderness`. Without it, event time is the wall-clock time in ms.
template <class T, class F>
class generator {
public:
  using output_type = T;
  using timestamp_fn = std::function<timestamp(uint64_t, const T&)>;

  generator(F fn, generator_options options, timestamp_fn time = {})
    : fn_(std::move(fn)), options_(options), time_(std::move(time)) {}

  [[nodiscard]] bool bounded() const { return options_.count.has_value(); }

  void open(source_context<T>& ctx) {
    next_ = ctx.info().index;
    stride_ = ctx.info().parallelism;
    if (options_.rate > 0)
      rate_per_instance_ = options_.rate / stride_;
    started_ = std::chrono::steady_clock::now();
  }

  source_step produce(source_context<T>& ctx, size_t max_records) {
    auto budget = max_records;
    if (rate_per_instance_ > 0) {
      auto elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_);
      auto due = static_cast<uint64_t>(elapsed.count() * rate_per_instance_);
      if (due <= produced_) {
        auto wait = (static_cast<double>(produced_ + 1) / rate_per_instance_) - elapsed.count();
        return source_step::wait(
          std::chrono::microseconds{std::max<int64_t>(50, static_cast<int64_t>(wait * 1e6))});
      }
      budget = std::min<uint64_t>(budget, due - produced_);
    }
    auto n = budget;
    if (options_.count)
      n = std::min<uint64_t>(n, remaining(*options_.count));
    if (time_) {
      auto max_time = min_timestamp;
      for (uint64_t i = 0; i < n; ++i, next_ += stride_) {
        T value = std::invoke(fn_, next_);
        auto time = time_(next_, value);
        max_time = std::max(max_time, time);
        ctx.emit(std::move(value), time);
      }
      if (max_time != min_timestamp)
        ctx.emit_watermark(max_time - options_.out_of_orderness.count());
    } else {
      auto wall = now_ms();
      for (uint64_t i = 0; i < n; ++i, next_ += stride_)
        ctx.emit(std::invoke(fn_, next_), wall);
    }
    produced_ += n;
    if (options_.count && remaining(*options_.count) == 0)
      return source_step::done();
    return source_step::more();
  }

  /// The next index (checkpoints record it; restoring continues from there).
  [[nodiscard]] uint64_t checkpoint_position() const { return next_; }
  void restore_position(uint64_t next) {
    produced_ += (next - next_) / stride_;
    next_ = next;
  }

private:
  static timestamp now_ms() {
    using namespace std::chrono;
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
  }

  /// How many of this instance's indices below `count` are still to come.
  [[nodiscard]] uint64_t remaining(uint64_t count) const {
    return next_ >= count ? 0 : (count - next_ + stride_ - 1) / stride_;
  }

  F fn_;
  generator_options options_;
  timestamp_fn time_;
  uint64_t next_ = 0;
  uint64_t stride_ = 1;
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
