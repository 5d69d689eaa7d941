#pragma once

#include <algorithm>
#include <chrono>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>

#include <caf/meta/type_name.hpp>

#include "sluice/record.hpp"

namespace sluice {

/// Where a watermark generator puts what it decides: the watermark of the stream it watches, and
/// whether that stream is idle (left out of downstream watermarks until it is active again).
/// It keeps the watermark rising: a watermark at or below the last is ignored.
class watermark_output {
public:
  /// Promises that no record older than `time` follows; makes the stream active again.
  void emit_watermark(timestamp time) noexcept {
    idle_ = false;
    if (time <= watermark_)
      return;
    watermark_ = time;
    moved_ = true;
  }

  /// Declares the stream idle until its next watermark (or `mark_active`).
  void mark_idle() noexcept { idle_ = true; }

  void mark_active() noexcept { idle_ = false; }

  [[nodiscard]] timestamp watermark() const noexcept { return watermark_; }
  [[nodiscard]] bool idle() const noexcept { return idle_; }

  /// The watermark, if it rose since the last call.
  [[nodiscard]] std::optional<timestamp> take_watermark() noexcept {
    if (!std::exchange(moved_, false))
      return std::nullopt;
    return watermark_;
  }

  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f, watermark_output& x) {
    return f(caf::meta::type_name("sluice.watermark_output"), x.watermark_, x.idle_);
  }

private:
  timestamp watermark_ = min_timestamp;
  bool idle_ = false;
  bool moved_ = false;
};

/// A watermark generator for records up to `max_delay` out of order (Flink's
/// BoundedOutOfOrdernessWatermarks): the watermark trails the largest event time seen by
/// `max_delay` and a millisecond, so a record `max_delay` older than the newest is still on time.
class out_of_orderness_watermarks {
public:
  out_of_orderness_watermarks() = default;
  explicit out_of_orderness_watermarks(std::chrono::milliseconds max_delay)
    : max_delay_(max_delay.count()) {}

  template <class T>
  void on_event(const T&, timestamp time, watermark_output&) noexcept {
    newest_ = std::max(newest_, time);
  }

  void on_periodic_emit(watermark_output& out) const noexcept {
    if (newest_ != min_timestamp)
      out.emit_watermark(watermark_behind(newest_, max_delay_));
  }

  [[nodiscard]] timestamp max_delay() const noexcept { return max_delay_; }

  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f, out_of_orderness_watermarks& x) {
    return f(caf::meta::type_name("sluice.out_of_orderness_watermarks"), x.max_delay_, x.newest_);
  }

private:
  timestamp max_delay_ = 0;
  timestamp newest_ = min_timestamp;
};

/// No timestamp assigner: records keep the event time they have.
struct keep_timestamps {};

/// How a stream's event time and watermarks are made (Flink's WatermarkStrategy): a watermark
/// generator, an optional timestamp assigner, and an optional idleness. Build one with
/// `bounded_out_of_orderness`, `monotonous_timestamps` or `custom_watermarks`, then set it with
/// `stream::assign_watermarks` (docs/windows.md, "Event time").
///
/// A generator has `on_event(const T& value, timestamp time, watermark_output&)`, called for
/// every record, and `on_periodic_emit(watermark_output&)`, called after every batch of records
/// and at every `periodic_interval` of processing time. It must be serializable with CAF's
/// inspectors: its state is checkpointed, so that an instance restarted alone makes the same
/// watermarks its failed incarnation made.
template <class Generator, class TimestampFn = keep_timestamps>
struct watermark_strategy {
  Generator generator;
  TimestampFn timestamp_of{};
  /// A stream that has no record for this long (processing time) is idle; zero: never.
  std::chrono::milliseconds idleness{0};
  /// How often `on_periodic_emit` runs while no records come; zero: only after records.
  std::chrono::milliseconds periodic_interval{0};

  /// Takes each record's event time from `fn(const T&) -> timestamp`, or
  /// `fn(const T&, timestamp previous) -> timestamp`.
  template <class F>
  watermark_strategy<Generator, F> with_timestamps(F fn) const {
    return {generator, std::move(fn), idleness, periodic_interval};
  }

  /// Declares the stream idle once no record came for `timeout` of processing time, so that it
  /// does not hold back the watermark downstream; the next record makes it active again.
  watermark_strategy with_idleness(std::chrono::milliseconds timeout) const {
    auto result = *this;
    result.idleness = timeout;
    return result;
  }

  /// Calls the generator's `on_periodic_emit` every `interval` of processing time as well,
  /// for generators whose watermark moves with the clock.
  watermark_strategy with_periodic_interval(std::chrono::milliseconds interval) const {
    auto result = *this;
    result.periodic_interval = interval;
    return result;
  }

  /// What is wrong with the strategy, empty if nothing.
  [[nodiscard]] std::string problem() const {
    if (idleness.count() < 0)
      return "idleness must not be negative (was " + std::to_string(idleness.count()) + " ms)";
    if (periodic_interval.count() < 0)
      return "the periodic interval must not be negative (was "
             + std::to_string(periodic_interval.count()) + " ms)";
    if constexpr (std::is_same_v<Generator, out_of_orderness_watermarks>) {
      if (generator.max_delay() < 0)
        return "the maximum out-of-orderness must not be negative (was "
               + std::to_string(generator.max_delay()) + " ms)";
    }
    return {};
  }
};

/// The strategy makes the watermarks of a stream of `T`: its generator has the calls a
/// watermark_strategy needs, and its timestamp assigner takes a `T`.
template <class T, class Generator, class TimestampFn>
constexpr void check_watermark_strategy() {
  static_assert(
    requires(Generator & g, const T& x, watermark_output& out) {
      g.on_event(x, timestamp{}, out);
      g.on_periodic_emit(out);
    },
    "a watermark generator needs on_event(const T&, timestamp, sluice::watermark_output&) and "
    "on_periodic_emit(sluice::watermark_output&)");
  static_assert(
    std::is_same_v<
      TimestampFn,
      keep_timestamps> || std::is_invocable_r_v<timestamp, const TimestampFn&, const T&> || std::is_invocable_r_v<timestamp, const TimestampFn&, const T&, timestamp>,
    "with_timestamps expects fn(const T&) -> timestamp or "
    "fn(const T&, timestamp previous) -> timestamp");
}

/// Watermarks that trail the largest event time seen by `max_delay`.
inline watermark_strategy<out_of_orderness_watermarks> bounded_out_of_orderness(
  std::chrono::milliseconds max_delay) {
  return {out_of_orderness_watermarks{max_delay}};
}

/// Watermarks for event times that never go back: the watermark is the largest seen.
inline watermark_strategy<out_of_orderness_watermarks> monotonous_timestamps() {
  return {out_of_orderness_watermarks{std::chrono::milliseconds{0}}};
}

/// Watermarks made by `generator` (see watermark_strategy).
template <class Generator>
watermark_strategy<Generator> custom_watermarks(Generator generator) {
  return {std::move(generator)};
}

} // namespace sluice
