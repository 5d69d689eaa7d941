#pragma once

#include <memory>

#include "sluice/context.hpp"
#include "sluice/detail/timer_service.hpp"
#include "sluice/operators/keyed_context.hpp"

namespace sluice::detail {

/// The timers of a keyed process function with `on_timer` (in a keyed process or a keyed
/// co-process): one timer service per clock, each keyed state in a reserved table, fired into
/// `on_timer` with the timer's key and state in scope (docs/architecture.md, "Keyed operators
/// and state").
template <class K, class Out>
class keyed_timers {
public:
  /// Opens the timers' tables (restored with the instance's state), hands them to `kctx`, and
  /// asks for a callback at the earliest pending processing-time timer.
  void open(context<Out>& ctx, keyed_context<K, Out>& kctx) {
    event_ = ctx.state().template timers<K>("event");
    processing_ = ctx.state().template timers<K>("processing");
    kctx.set_timers(event_.get(), processing_.get());
    call_back_at_earliest(ctx);
  }

  /// The watermark advanced to `time`: fires the event-time timers at or before it.
  template <class OnTimer>
  void on_watermark(timestamp time, context<Out>& ctx, keyed_context<K, Out>& kctx,
                    OnTimer&& on_timer) {
    fire(*event_, time_domain::event_time, time, ctx, kctx, on_timer);
  }

  /// Processing time moved on to `now`: fires the processing-time timers due.
  template <class OnTimer>
  void on_processing_time(timestamp now, context<Out>& ctx, keyed_context<K, Out>& kctx,
                          OnTimer&& on_timer) {
    fire(*processing_, time_domain::processing_time, now, ctx, kctx, on_timer);
    call_back_at_earliest(ctx);
  }

  /// The input ended: fires every pending timer, event time first.
  template <class OnTimer>
  void on_end(context<Out>& ctx, keyed_context<K, Out>& kctx, OnTimer&& on_timer) {
    fire(*event_, time_domain::event_time, max_timestamp, ctx, kctx, on_timer);
    fire(*processing_, time_domain::processing_time, max_timestamp, ctx, kctx, on_timer);
  }

  /// Asks for a timer of `key` at `time` in `domain` that the key has not (timer_service::
  /// add_new).
  void add_new(time_domain domain, const K& key, timestamp time, context<Out>& ctx) {
    if (domain == time_domain::event_time) {
      event_->add_new(key, time);
    } else {
      processing_->add_new(key, time);
      ctx.call_back_at_processing_time(time);
    }
  }

private:
  /// Fires the timers of `timers` up to `up_to`: an event-time timer's output carries its time,
  /// a processing-time timer's the watermark (never late downstream) or, once event time has
  /// ended, none (`max_timestamp` is no record's time).
  template <class OnTimer>
  void fire(timer_service<K>& timers, time_domain domain, timestamp up_to, context<Out>& ctx,
            keyed_context<K, Out>& kctx, OnTimer& on_timer) {
    kctx.set_firing(domain);
    timers.advance_to(
      up_to,
      [&](const K& key, timestamp time) {
        ctx.set_current_time(domain == time_domain::event_time ? time
                                                               : processing_output_time(ctx));
        kctx.set_key(&key);
        on_timer(time);
      },
      [&](const K& key) { kctx.prefetch(key); });
    kctx.set_key(nullptr);
  }

  static timestamp processing_output_time(const context<Out>& ctx) {
    return ctx.watermark() == max_timestamp ? min_timestamp : ctx.watermark();
  }

  /// Asks the host to wake the instance for its earliest processing-time timer.
  void call_back_at_earliest(context<Out>& ctx) {
    if (auto earliest = processing_->earliest())
      ctx.call_back_at_processing_time(*earliest);
  }

  std::shared_ptr<timer_service<K>> event_;
  std::shared_ptr<timer_service<K>> processing_;
};

} // namespace sluice::detail
