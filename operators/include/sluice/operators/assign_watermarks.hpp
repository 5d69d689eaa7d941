#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <type_traits>
#include <utility>
#include <vector>

#include <caf/meta/type_name.hpp>

#include "sluice/context.hpp"
#include "sluice/state.hpp"
#include "sluice/watermark_strategy.hpp"

namespace sluice::op {

/// Sets the event time of each record (with the strategy's timestamp assigner) and makes the
/// watermark of its output with the strategy's generator, in place of its input's (Flink's
/// TimestampsAndWatermarksOperator); the end of the input still ends every window downstream.
///
/// The generator and what it emitted are operator state, checkpointed: an instance restarted
/// alone replays its input from the checkpoint and emits the same watermarks at the same points.
/// Idleness and the periodic calls follow the instance's processing time, whose steps a replay
/// takes at the same points of the input too.
template <class T, class Generator, class TimestampFn>
class assign_watermarks {
public:
  using input_type = T;
  using output_type = T;

  explicit assign_watermarks(watermark_strategy<Generator, TimestampFn> strategy)
    : strategy_(std::move(strategy)) {}

  void open(context<T>& ctx) {
    saved_.emplace(ctx.state().template operator_list<saved_state>("watermark_generator"));
    auto restored = saved_->get();
    if (restored.size() == 1) {
      strategy_.generator = std::move(restored[0].generator);
      out_ = restored[0].out;
      last_record_at_ = restored[0].last_record_at;
      next_periodic_ = restored[0].next_periodic;
    }
    // A fresh instance learns the time from its host's first step of the clock, as it starts; a
    // restored one goes on from the time it had.
    if (wakes() && last_record_at_ != min_timestamp)
      ctx.call_back_at_processing_time(next_wake_up(last_record_at_));
  }

  void on_batch(std::vector<record<T>>& records, context<T>& ctx) {
    // A record whose timestamp assigner throws (under failure_policy::skip) is not passed on.
    auto kept = records.begin();
    ctx.for_each_record(records, [&](record<T>& r) {
      if constexpr (std::is_invocable_v<const TimestampFn&, const T&, timestamp>)
        r.time = std::invoke(strategy_.timestamp_of, std::as_const(r.value), r.time);
      else if constexpr (std::is_invocable_v<const TimestampFn&, const T&>)
        r.time = std::invoke(strategy_.timestamp_of, std::as_const(r.value));
      strategy_.generator.on_event(std::as_const(r.value), r.time, out_);
      if (&*kept != &r)
        *kept = std::move(r);
      ++kept;
    });
    records.erase(kept, records.end());
    if (!records.empty()) {
      out_.mark_active();
      last_record_at_ = ctx.current_processing_time();
    }
    strategy_.generator.on_periodic_emit(out_);
    ctx.emit_batch(std::move(records));
    if (wakes())
      ctx.call_back_at_processing_time(next_wake_up(ctx.current_processing_time()));
  }

  /// The instance's clock moved on to `now`: the periodic call, and idleness once no record
  /// came for the strategy's idleness.
  void on_processing_time(timestamp now, context<T>& ctx) {
    if (!wakes())
      return;
    if (last_record_at_ == min_timestamp)
      last_record_at_ = now; // idleness counts from the first time the instance knows
    if (strategy_.periodic_interval.count() > 0 && now >= next_periodic_) {
      strategy_.generator.on_periodic_emit(out_);
      next_periodic_ = now + strategy_.periodic_interval.count();
    }
    if (strategy_.idleness.count() > 0 && now - last_record_at_ >= strategy_.idleness.count())
      out_.mark_idle();
    ctx.call_back_at_processing_time(next_wake_up(now));
  }

  void on_checkpoint(uint64_t, context<T>&) {
    saved_->update({saved_state{strategy_.generator, out_, last_record_at_, next_periodic_}});
  }

  /// The watermark of the output, if it rose since the last call (the host sends it on).
  [[nodiscard]] std::optional<timestamp> take_watermark() noexcept { return out_.take_watermark(); }

  /// The output is idle.
  [[nodiscard]] bool idle() const noexcept { return out_.idle(); }

private:
  struct saved_state {
    Generator generator;
    watermark_output out;
    timestamp last_record_at = min_timestamp;
    timestamp next_periodic = min_timestamp;

    template <class Inspector>
    friend typename Inspector::result_type inspect(Inspector& f, saved_state& x) {
      return f(caf::meta::type_name("sluice.watermark_generator_state"), x.generator, x.out,
               x.last_record_at, x.next_periodic);
    }
  };

  /// The strategy needs the clock: for idleness or periodic calls.
  [[nodiscard]] bool wakes() const noexcept {
    return strategy_.idleness.count() > 0 || strategy_.periodic_interval.count() > 0;
  }

  [[nodiscard]] timestamp next_wake_up(timestamp now) const noexcept {
    auto at = max_timestamp;
    if (strategy_.periodic_interval.count() > 0)
      at = std::max(next_periodic_, now + 1);
    if (strategy_.idleness.count() > 0 && !out_.idle())
      at = std::min(at, std::max(last_record_at_ + strategy_.idleness.count(), now + 1));
    return at;
  }

  watermark_strategy<Generator, TimestampFn> strategy_;
  watermark_output out_;
  timestamp last_record_at_ = min_timestamp;
  timestamp next_periodic_ = min_timestamp;
  std::optional<operator_list_state<saved_state>> saved_;
};

} // namespace sluice::op
