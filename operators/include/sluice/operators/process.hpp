#pragma once

#include <functional>
#include <optional>
#include <type_traits>
#include <utility>
#include <vector>

#include "sluice/context.hpp"
#include "sluice/operators/key_by.hpp"
#include "sluice/operators/keyed_context.hpp"
#include "sluice/operators/keyed_timers.hpp"

namespace sluice::op {

/// A low-level operator: `fn(const T&, context<Out>&)` for each record.
///
/// `fn` may also be an object with `process(const T&, context<Out>&)` and optional
/// `on_watermark(timestamp, context<Out>&)` and `on_end(context<Out>&)`.
template <class T, class Out, class F>
class process {
public:
  using input_type = T;
  using output_type = Out;

  explicit process(F fn) : fn_(std::move(fn)) {}

  void on_batch(std::vector<record<T>>& records, context<Out>& ctx) {
    ctx.for_each_record(records, [&](record<T>& r) {
      ctx.set_current_time(r.time);
      if constexpr (requires { fn_.process(std::as_const(r.value), ctx); })
        fn_.process(std::as_const(r.value), ctx);
      else
        std::invoke(fn_, std::as_const(r.value), ctx);
    });
  }

  // Only if fn has it: the host keeps the watermark of an operator that acts on it.
  void on_watermark(timestamp time, context<Out>& ctx) requires requires(F& f, context<Out>& c) {
    f.on_watermark(timestamp{}, c);
  }
  { fn_.on_watermark(time, ctx); }

  void on_end(context<Out>& ctx) {
    if constexpr (requires { fn_.on_end(ctx); })
      fn_.on_end(ctx);
  }

private:
  F fn_;
};

/// A keyed low-level operator: `fn(const T&, keyed_context<K, Out>&)` for each record, with
/// keyed state scoped to the record's key. An object may also provide `process`,
/// `on_watermark(timestamp, context<Out>&)`, `on_end(context<Out>&)`, and
/// `on_timer(timestamp, keyed_context<K, Out>&)`, which runs for each timer that comes due
/// (Flink's KeyedProcessFunction#onTimer) with the timer's key and state in scope:
/// - event-time timers when the watermark passes them, earliest first, with the timer's time as
///   the current event time;
/// - processing-time timers when the host's clock passes them (between records, or woken by
///   the clock when no input comes), earliest first, with the watermark as the current event
///   time (what they emit is never late downstream);
/// - at end of input, every pending timer: event time first, then processing time.
///
/// `ctx.timer_domain()` tells the two apart in `on_timer`.
template <class T, class KeyFn, class Out, class F>
class keyed_process {
public:
  using key_type = key_type_of<KeyFn, T>;
  using input_type = T;
  using output_type = Out;

  keyed_process(KeyFn key, F fn) : key_(std::move(key)), fn_(std::move(fn)) {}

  // The keyed context points into this object; copies (one per instance) rebuild it on open.
  keyed_process(const keyed_process& other) : key_(other.key_), fn_(other.fn_) {}

  void open(context<Out>& ctx) {
    keyed_ctx_.emplace(ctx);
    if constexpr (has_timers)
      timers_.open(ctx, *keyed_ctx_);
  }

  void on_batch(std::vector<record<T>>& records, context<Out>& ctx) {
    auto& kctx = *keyed_ctx_;
    auto ahead =
      kctx.prefetcher(records, [&](const T& value) { kctx.prefetch(std::invoke(key_, value)); });
    ctx.for_each_record(
      records,
      [&](record<T>& r) {
        ahead.next();
        ctx.set_current_time(r.time);
        const auto& key = std::invoke(key_, std::as_const(r.value));
        kctx.set_key(&key);
        if constexpr (requires { fn_.process(std::as_const(r.value), kctx); })
          fn_.process(std::as_const(r.value), kctx);
        else
          std::invoke(fn_, std::as_const(r.value), kctx);
      },
      [&](const T& value) { return record_text(std::invoke(key_, value)); });
    kctx.set_key(nullptr);
  }

  void on_watermark(timestamp time, context<Out>& ctx) {
    if constexpr (has_timers)
      timers_.on_watermark(time, ctx, *keyed_ctx_, on_timer());
    if constexpr (requires { fn_.on_watermark(time, ctx); })
      fn_.on_watermark(time, ctx);
  }

  /// The host's clock moved on to `now`: fires the processing-time timers due.
  void on_processing_time(timestamp now,
                          context<Out>& ctx) requires has_on_timer<F, key_type, Out> {
    timers_.on_processing_time(now, ctx, *keyed_ctx_, on_timer());
  }

  void on_end(context<Out>& ctx) {
    if constexpr (has_timers)
      timers_.on_end(ctx, *keyed_ctx_, on_timer());
    if constexpr (requires { fn_.on_end(ctx); })
      fn_.on_end(ctx);
  }

private:
  static constexpr bool has_timers = has_on_timer<F, key_type, Out>;

  auto on_timer() {
    return [this](timestamp time) { fn_.on_timer(time, *keyed_ctx_); };
  }

  KeyFn key_;
  F fn_;
  std::optional<keyed_context<key_type, Out>> keyed_ctx_;
  detail::keyed_timers<key_type, Out> timers_;
};

} // namespace sluice::op
