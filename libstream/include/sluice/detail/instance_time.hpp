#pragma once

#include <algorithm>
#include <concepts>
#include <optional>
#include <utility>

#include "sluice/context.hpp"
#include "sluice/detail/host_core.hpp"
#include "sluice/detail/parking_work_stealing.hpp"
#include "sluice/operator.hpp"
#include "sluice/watermark_tracker.hpp"

namespace sluice::detail {

/// An operator instance's time, the part of the operator host that keeps it: the watermark of
/// its inputs and their idleness, what it sends on (the inputs', or what the operator made, for a
/// watermark strategy's stage), the input watermark saved at checkpoints, and the processing-time
/// clock (docs/architecture.md, "The operator host").
///
/// Each call that runs an operator hook returns false, with `what`, if the hook threw; the host
/// then fails the instance.
template <operator_type Op>
class instance_time {
public:
  using out_type = typename Op::output_type;

  /// The operator has `on_processing_time`: the instance keeps a processing-time clock for it.
  static constexpr bool keeps_processing_time =
    requires(Op & op, timestamp t, context<out_type>& c) {
    op.on_processing_time(t, c);
  };

  /// The operator acts on the watermark (windows, timers), rather than only passing it on.
  static constexpr bool reads_watermark = requires(Op & op, timestamp t, context<out_type>& c) {
    op.on_watermark(t, c);
  };

  /// The operator makes its output's watermark itself (a watermark strategy's stage): the
  /// instance sends on what it emits, and whether it is idle, instead of its inputs' watermark.
  static constexpr bool generates_watermarks = requires(Op & op) {
    { op.take_watermark() } -> std::same_as<std::optional<timestamp>>;
    { op.idle() } -> std::same_as<bool>;
  };

  instance_time(Op& op, host_core<out_type>& core, context<out_type>& ctx)
    : op_(op), core_(core), ctx_(ctx) {}

  void resize(size_t channels) { watermarks_.resize(channels); }

  [[nodiscard]] const watermark_tracker& watermarks() const noexcept { return watermarks_; }

  // ---- restore ----------------------------------------------------------------------------

  /// Takes up the input channels' watermarks, idleness and ends, and the processing time, as
  /// they stood at a restored checkpoint (a restarted incarnation's replay goes on from there).
  void restore(const recovery_log::position& where, size_t channels) {
    watermarks_ = where.watermarks;
    watermarks_.resize(channels);
    show(watermarks_.current());
    idle_out_ = watermarks_.all_idle();
    if constexpr (generates_watermarks)
      idle_out_ = idle_out_ || op_.idle(); // as restored by the operator's open
    host_access::set_processing_time(ctx_, where.processing_time);
  }

  /// A fresh start: an operator that acts on the watermark starts at the least input watermark
  /// its instances saved at the restored checkpoint, at any parallelism. So a record that was
  /// late before a restore is late after it too, as if the job had not stopped (Flink starts a
  /// restored job's watermarks afresh, and takes such records in).
  bool start(failure_report& what) {
    if constexpr (reads_watermark) {
      return core_.call(
        [&] {
          auto saved = saved_watermark().get();
          if (saved.empty())
            return;
          watermarks_.start_at(*std::min_element(saved.begin(), saved.end()));
          show(watermarks_.current());
        },
        what);
    }
    return true;
  }

  /// At a checkpoint: saves the input watermark of an operator that acts on it.
  bool save(failure_report& what) {
    if constexpr (reads_watermark)
      return core_.call([&] { saved_watermark().update({watermarks_.current()}); }, what);
    return true;
  }

  // ---- input markers ----------------------------------------------------------------------

  bool advance(channel_index channel, timestamp time, failure_report& what) {
    if (watermarks_.advance(channel, time) && !on_watermark(what))
      return false;
    update_idle(); // a watermark makes an idle channel active again
    return true;
  }

  bool set_idle(channel_index channel, bool idle, failure_report& what) {
    if (watermarks_.set_idle(channel, idle) && !on_watermark(what))
      return false;
    update_idle();
    return true;
  }

  /// An input ended: its watermark no longer holds the others back.
  bool end(channel_index channel, failure_report& what) {
    if (watermarks_.end(channel) && watermarks_.current() != max_timestamp)
      return on_watermark(what);
    return true;
  }

  /// Every input ended: the last watermark goes out behind the last records.
  void finish() {
    host_access::set_watermark(ctx_, max_timestamp);
    core_.out.broadcast(watermark_msg{0, max_timestamp});
  }

  /// After the operator handled a batch: sends on the watermark it made, if it rose, and its
  /// idleness.
  void after_batch() {
    if constexpr (generates_watermarks) {
      if (auto time = op_.take_watermark()) {
        core_.stats.watermark = *time;
        core_.out.broadcast(watermark_msg{0, *time});
        idle_out_ = false; // downstream takes a watermark as a sign of activity
      }
      update_idle();
    }
  }

  /// An idle flag that no longer matches all inputs going quiet is sent on.
  void update_idle() {
    bool idle = watermarks_.all_idle();
    if constexpr (generates_watermarks)
      idle = idle || op_.idle();
    if (idle == idle_out_)
      return;
    idle_out_ = idle;
    core_.out.broadcast(idle_msg{0, idle});
  }

  // ---- processing time --------------------------------------------------------------------
  // For an operator that keeps it, the clock moves on to the wall clock before each batch the
  // host handles and when woken at a time the operator asked for. Each step is logged between
  // the input's runs, so a replay takes the same steps at the same points of the input and fires
  // the same processing-time timers there.

  /// Moves the clock on to the wall clock, if it went on, and logs the step.
  bool tick(failure_report& what) {
    if constexpr (keeps_processing_time) {
      auto now = wall_clock_now();
      if (now <= ctx_.current_processing_time())
        return true;
      if (core_.log())
        core_.log()->ticked(now);
      return move_clock(now, what);
    }
    return true;
  }

  /// A step of the clock: a tick, or one replayed from the log.
  bool move_clock(timestamp now, failure_report& what) {
    if constexpr (keeps_processing_time) {
      host_access::set_processing_time(ctx_, now);
      if (!core_.call([&] { op_.on_processing_time(now, ctx_); }, what))
        return false;
      after_batch();
    }
    return true;
  }

  /// Wakes `self` with a clock_atom when the wall clock reaches the earliest time the operator
  /// asked for.
  void arm_clock(caf::scheduled_actor* self) {
    if constexpr (keeps_processing_time) {
      auto at = host_access::take_processing_callback(ctx_);
      if (at >= clock_armed_at_)
        return; // an earlier wake-up comes first, and the operator asks again then
      clock_armed_at_ = at;
      auto delay = std::max<timestamp>(at - wall_clock_now(), 0);
      send_later(self, std::chrono::milliseconds{delay}, caf::make_message(clock_atom::value));
    }
  }

  /// The clock_atom arrived: ticks the clock if the instance is `running`; an early wake-up, or
  /// one before the instance runs, asks again.
  bool on_clock(bool running, failure_report& what) {
    auto wanted = std::exchange(clock_armed_at_, max_timestamp);
    if (running && !tick(what))
      return false;
    if (ctx_.current_processing_time() < wanted)
      ctx_.call_back_at_processing_time(wanted);
    return true;
  }

private:
  static constexpr const char* watermark_state = "input watermark";

  operator_list_state<timestamp> saved_watermark() {
    return core_.state.template union_list<timestamp>(watermark_state);
  }

  void show(timestamp time) {
    host_access::set_watermark(ctx_, time);
    core_.stats.watermark = time;
  }

  /// The combined input watermark rose: the operator acts on it and it goes on downstream,
  /// unless the operator makes its output's watermark itself.
  bool on_watermark(failure_report& what) {
    auto time = watermarks_.current();
    host_access::set_watermark(ctx_, time);
    if constexpr (generates_watermarks)
      return true;
    core_.stats.watermark = time;
    if constexpr (reads_watermark) {
      if (!core_.call([&] { op_.on_watermark(time, ctx_); }, what))
        return false;
    }
    core_.out.broadcast(watermark_msg{0, time});
    return true;
  }

  Op& op_;
  host_core<out_type>& core_;
  context<out_type>& ctx_;
  watermark_tracker watermarks_;
  /// The idle flag last sent downstream.
  bool idle_out_ = false;
  /// When the clock wakes the instance next (max_timestamp: not armed).
  timestamp clock_armed_at_ = max_timestamp;
};

} // namespace sluice::detail
