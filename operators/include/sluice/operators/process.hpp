#pragma once

#include <algorithm>
#include <functional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "sluice/context.hpp"
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

  void set_key(const K* key) { key_ = key; }

private:
  /// The table `name`; with a TTL, on the instance's event-time clock: the larger of its
  /// watermark and the event time of the record being processed.
  template <class V>
  std::shared_ptr<keyed_table<K, V>> table(const std::string& name, state_ttl ttl) {
    return ctx_->state().template table<K, V>(
      name, ttl, [ctx = ctx_] { return std::max(ctx->current_time(), ctx->watermark()); });
  }

  context<Out>* ctx_;
  const K* key_ = nullptr;
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
/// `on_watermark(timestamp, context<Out>&)` and `on_end(context<Out>&)`.
template <class T, class KeyFn, class Out, class F>
class keyed_process {
public:
  using key_type = key_type_of<KeyFn, T>;
  using input_type = T;
  using output_type = Out;

  keyed_process(KeyFn key, F fn) : key_(std::move(key)), fn_(std::move(fn)) {}

  // The keyed context points into this object; copies (one per instance) rebuild it on open.
  keyed_process(const keyed_process& other) : key_(other.key_), fn_(other.fn_) {}

  void open(context<Out>& ctx) { keyed_ctx_.emplace(ctx); }

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
    if constexpr (requires { fn_.on_watermark(time, ctx); })
      fn_.on_watermark(time, ctx);
  }

  void on_end(context<Out>& ctx) {
    if constexpr (requires { fn_.on_end(ctx); })
      fn_.on_end(ctx);
  }

private:
  KeyFn key_;
  F fn_;
  std::optional<keyed_context<key_type, Out>> keyed_ctx_;
};

} // namespace sluice::op
