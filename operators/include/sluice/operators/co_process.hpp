#pragma once

#include <functional>
#include <optional>
#include <utility>
#include <variant>
#include <vector>

#include "sluice/context.hpp"
#include "sluice/operators/key_by.hpp"
#include "sluice/operators/keyed_context.hpp"
#include "sluice/operators/keyed_timers.hpp"

namespace sluice {

/// A record of a two-input operator: alternative 0 from its first input, 1 from its second
/// (the two may be of one type).
template <class A, class B>
using two_inputs = std::variant<A, B>;

} // namespace sluice

namespace sluice::op {

/// A two-input operator (Flink's CoProcessFunction): `fn.process_first(const A&, context<Out>&)`
/// for each record of the first input, `fn.process_second(const B&, context<Out>&)` for each of
/// the second, and optional `on_watermark(timestamp, context<Out>&)` and `on_end(context<Out>&)`.
/// It reads both inputs as one: the watermark is the minimum over both, the input ends when
/// both have.
template <class A, class B, class Out, class F>
class co_process {
public:
  using input_type = two_inputs<A, B>;
  using output_type = Out;

  explicit co_process(F fn) : fn_(std::move(fn)) {}

  void on_batch(std::vector<record<input_type>>& records, context<Out>& ctx) {
    ctx.for_each_record(records, [&](record<input_type>& r) {
      ctx.set_current_time(r.time);
      if (r.value.index() == 0)
        fn_.process_first(std::as_const(std::get<0>(r.value)), ctx);
      else
        fn_.process_second(std::as_const(std::get<1>(r.value)), ctx);
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

/// A keyed two-input operator (Flink's KeyedCoProcessFunction): both inputs keyed to one key
/// type, `fn.process_first(const A&, keyed_context<K, Out>&)` and
/// `fn.process_second(const B&, keyed_context<K, Out>&)` with the record's key and its state in
/// scope — one state for both inputs — and optional `on_watermark`, `on_end` and
/// `on_timer(timestamp, keyed_context<K, Out>&)`, whose timers behave as in op::keyed_process.
template <class A, class KeyA, class B, class KeyB, class Out, class F>
class keyed_co_process {
public:
  using key_type = key_type_of<KeyA, A>;
  using input_type = two_inputs<A, B>;
  using output_type = Out;

  keyed_co_process(KeyA key_first, KeyB key_second, F fn)
    : key_first_(std::move(key_first)), key_second_(std::move(key_second)), fn_(std::move(fn)) {}

  // The keyed context points into this object; copies (one per instance) rebuild it on open.
  keyed_co_process(const keyed_co_process& other)
    : key_first_(other.key_first_), key_second_(other.key_second_), fn_(other.fn_) {}

  void open(context<Out>& ctx) {
    keyed_ctx_.emplace(ctx);
    if constexpr (has_timers)
      timers_.open(ctx, *keyed_ctx_);
  }

  void on_batch(std::vector<record<input_type>>& records, context<Out>& ctx) {
    auto& kctx = *keyed_ctx_;
    auto ahead = kctx.prefetcher(records, [&](const input_type& value) {
      if (value.index() == 0)
        kctx.prefetch(std::invoke(key_first_, std::get<0>(value)));
      else
        kctx.prefetch(std::invoke(key_second_, std::get<1>(value)));
    });
    ctx.for_each_record(
      records,
      [&](record<input_type>& r) {
        ahead.next();
        ctx.set_current_time(r.time);
        if (r.value.index() == 0) {
          const auto& value = std::as_const(std::get<0>(r.value));
          const auto& key = std::invoke(key_first_, value);
          kctx.set_key(&key);
          fn_.process_first(value, kctx);
        } else {
          const auto& value = std::as_const(std::get<1>(r.value));
          const auto& key = std::invoke(key_second_, value);
          kctx.set_key(&key);
          fn_.process_second(value, kctx);
        }
      },
      [&](const input_type& value) { return record_text(key_of(value)); });
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

  /// The records the function dropped as late, if it counts them.
  [[nodiscard]] uint64_t late_records() const noexcept requires requires(const F& f) {
    { f.late_records() } -> std::convertible_to<uint64_t>;
  }
  { return fn_.late_records(); }

private:
  static constexpr bool has_timers = has_on_timer<F, key_type, Out>;

  [[nodiscard]] key_type key_of(const input_type& value) const {
    if (value.index() == 0)
      return std::invoke(key_first_, std::get<0>(value));
    return std::invoke(key_second_, std::get<1>(value));
  }

  auto on_timer() {
    return [this](timestamp time) { fn_.on_timer(time, *keyed_ctx_); };
  }

  KeyA key_first_;
  KeyB key_second_;
  F fn_;
  std::optional<keyed_context<key_type, Out>> keyed_ctx_;
  detail::keyed_timers<key_type, Out> timers_;
};

} // namespace sluice::op
