#pragma once

#include <algorithm>
#include <functional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "sluice/context.hpp"
#include "sluice/detail/timer_service.hpp"
#include "sluice/error.hpp"
#include "sluice/operators/key_by.hpp"
#include "sluice/state.hpp"

namespace sluice {

/// What a keyed process function sees: the current key, its keyed state, and the output.
///
/// State handles are scoped to the current key: a handle taken once (say, in `open`) reads and
/// writes the state of whichever key the record being processed has.
template <class K, class Out>
class keyed_context {
public:
  explicit keyed_context(context<Out>& ctx) : ctx_(&ctx) {}

  [[nodiscard]] const K& key() const { return *key_; }

  void emit(Out value) { ctx_->emit(std::move(value)); }
  void emit(Out value, timestamp time) { ctx_->emit(std::move(value), time); }

  [[nodiscard]] timestamp current_time() const { return ctx_->current_time(); }
  [[nodiscard]] timestamp watermark() const { return ctx_->watermark(); }
  [[nodiscard]] const instance_info& info() const { return ctx_->info(); }

  /// Keyed state handles. With a `state_ttl`, entries expire by event time (see ttl_table).
  template <class V>
  [[nodiscard]] value_state<K, V> value(const std::string& name, state_ttl ttl = {}) {
    return {table<V>(name, ttl), &key_};
  }

  template <class V>
  [[nodiscard]] list_state<K, V> list(const std::string& name, state_ttl ttl = {}) {
    return {table<std::vector<V>>(name, ttl), &key_};
  }

  template <class UK, class UV>
  [[nodiscard]] map_state<K, UK, UV> map(const std::string& name, state_ttl ttl = {}) {
    return {table<typename map_state<K, UK, UV>::map_type>(name, ttl), &key_};
  }

  template <class V, class F>
  [[nodiscard]] reducing_state<K, V> reducing(const std::string& name, F fn, state_ttl ttl = {}) {
    return {table<std::optional<V>>(name, ttl), &key_, std::move(fn)};
  }

  template <aggregate_function Agg>
  [[nodiscard]] aggregating_state<K, Agg> aggregating(const std::string& name, Agg agg,
                                                      state_ttl ttl = {}) {
    return {table<std::optional<typename Agg::accumulator_type>>(name, ttl), &key_, std::move(agg)};
  }

  /// Asks for `on_timer(time, ctx)` of the process function, for the current key, once the
  /// watermark reaches `time` (in a bounded job at the latest at the end of input). A timer is
  /// there once per key and time: registering it again changes nothing. Timers are keyed
  /// state, checkpointed and rescaled with their keys.
  /// @throws failure (errc::configuration) if the function has no `on_timer`.
  void register_event_time_timer(timestamp time) { event_timers().add(*key_, time); }

  /// Cancels the current key's timer at `time`, if there is one.
  /// @throws failure (errc::configuration) if the function has no `on_timer`.
  void delete_event_time_timer(timestamp time) { event_timers().remove(*key_, time); }

  void set_key(const K* key) { key_ = key; }
  void set_event_timers(detail::timer_service<K>* timers) { event_timers_ = timers; }

private:
  detail::timer_service<K>& event_timers() {
    if (!event_timers_)
      throw failure(errc::configuration,
                    "a keyed process function registers timers but has no "
                    "on_timer(timestamp, sluice::keyed_context<K, Out>&)");
    return *event_timers_;
  }

  /// The table `name`; with a TTL, on the instance's event-time clock: the larger of its
  /// watermark and the event time of the record being processed.
  template <class V>
  std::shared_ptr<keyed_table<K, V>> table(const std::string& name, state_ttl ttl) {
    return ctx_->state().template table<K, V>(
      name, ttl, [ctx = ctx_] { return std::max(ctx->current_time(), ctx->watermark()); });
  }

  context<Out>* ctx_;
  const K* key_ = nullptr;
  detail::timer_service<K>* event_timers_ = nullptr;
};

} // namespace sluice

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

  void on_watermark(timestamp time, context<Out>& ctx) {
    if constexpr (requires { fn_.on_watermark(time, ctx); })
      fn_.on_watermark(time, ctx);
  }

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
/// `on_timer(timestamp, keyed_context<K, Out>&)`, which runs for each event-time timer the
/// watermark passes (Flink's KeyedProcessFunction#onTimer), earliest first, with the timer's
/// key and state in scope and its time as the current time; at end of input every pending
/// timer fires.
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
    if constexpr (has_timers) {
      event_timers_.emplace(ctx.state().template timer_table<key_type>("event"));
      keyed_ctx_->set_event_timers(&*event_timers_);
    }
  }

  void on_batch(std::vector<record<T>>& records, context<Out>& ctx) {
    auto& kctx = *keyed_ctx_;
    ctx.for_each_record(
      records,
      [&](record<T>& r) {
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
      fire_event_timers(time, ctx);
    if constexpr (requires { fn_.on_watermark(time, ctx); })
      fn_.on_watermark(time, ctx);
  }

  void on_end(context<Out>& ctx) {
    if constexpr (has_timers)
      fire_event_timers(max_timestamp, ctx);
    if constexpr (requires { fn_.on_end(ctx); })
      fn_.on_end(ctx);
  }

private:
  static constexpr bool has_timers = requires(F & f, timestamp t, keyed_context<key_type, Out>& c) {
    f.on_timer(t, c);
  };

  void fire_event_timers(timestamp up_to, context<Out>& ctx) {
    auto& kctx = *keyed_ctx_;
    event_timers_->advance_to(up_to, [&](const key_type& key, timestamp time) {
      ctx.set_current_time(time);
      kctx.set_key(&key);
      fn_.on_timer(time, kctx);
    });
    kctx.set_key(nullptr);
  }

  KeyFn key_;
  F fn_;
  std::optional<keyed_context<key_type, Out>> keyed_ctx_;
  std::optional<detail::timer_service<key_type>> event_timers_;
};

} // namespace sluice::op
