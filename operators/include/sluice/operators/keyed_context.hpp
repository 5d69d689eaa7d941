#pragma once

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "sluice/context.hpp"
#include "sluice/detail/batch_prefetcher.hpp"
#include "sluice/detail/prefetch_set.hpp"
#include "sluice/detail/timer_service.hpp"
#include "sluice/error.hpp"
#include "sluice/state.hpp"
#include "sluice/time_domain.hpp"

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

  void emit(Out&& value) { ctx_->emit(std::move(value)); }
  void emit(const Out& value) { ctx_->emit(value); }
  void emit(Out&& value, timestamp time) { ctx_->emit(std::move(value), time); }
  void emit(const Out& value, timestamp time) { ctx_->emit(value, time); }

  [[nodiscard]] timestamp current_time() const { return ctx_->current_time(); }
  [[nodiscard]] timestamp watermark() const { return ctx_->watermark(); }

  /// The instance's processing time, ms since the epoch (see context::current_processing_time).
  /// @throws failure (errc::configuration) if the function has no `on_timer`.
  [[nodiscard]] timestamp current_processing_time() {
    timers(time_domain::processing_time);
    return ctx_->current_processing_time();
  }

  /// In `on_timer`: the clock of the timer that fires.
  [[nodiscard]] time_domain timer_domain() const noexcept { return firing_; }
  [[nodiscard]] const instance_info& info() const { return ctx_->info(); }

  /// Keyed state handles. With a `state_ttl`, entries expire by event time (see ttl_table).
  template <class V>
  [[nodiscard]] value_state<K, V> value(const std::string& name, state_ttl ttl = {}) {
    return {table<V>(name, ttl), &key_};
  }

  template <class V>
  [[nodiscard]] list_state<K, V> list(const std::string& name, state_ttl ttl = {}) {
    return {table<list_values<V>>(name, ttl), &key_};
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
  /// state, checkpointed and restored with it.
  /// @throws failure (errc::configuration) if the function has no `on_timer`.
  void register_event_time_timer(timestamp time) {
    timers(time_domain::event_time).add(*key_, time);
  }

  /// Cancels the current key's event-time timer at `time`, if there is one.
  /// @throws failure (errc::configuration) if the function has no `on_timer`.
  void delete_event_time_timer(timestamp time) {
    timers(time_domain::event_time).remove(*key_, time);
  }

  /// Asks for `on_timer(time, ctx)` for the current key once processing time reaches `time`
  /// (ms since the epoch; at the latest at the end of input). Otherwise as event-time timers.
  /// @throws failure (errc::configuration) if the function has no `on_timer`.
  void register_processing_time_timer(timestamp time) {
    timers(time_domain::processing_time).add(*key_, time);
    ctx_->call_back_at_processing_time(time);
  }

  /// Cancels the current key's processing-time timer at `time`, if there is one.
  /// @throws failure (errc::configuration) if the function has no `on_timer`.
  void delete_processing_time_timer(timestamp time) {
    timers(time_domain::processing_time).remove(*key_, time);
  }

  void set_key(const K* key) { key_ = key; }

  /// Starts loading the entries of `key` in the tables worth it (see detail::prefetch_set).
  /// Timers need none: they are not looked up by key.
  void prefetch(const K& key) const { prefetched_.prefetch(key); }

  /// A prefetcher for `records` (see detail::batch_prefetcher) of the tables worth it (see
  /// detail::prefetch_set); it does nothing while the function has no state handle.
  template <class T, class PrefetchKey>
  [[nodiscard]] detail::batch_prefetcher<T, PrefetchKey> prefetcher(
    const std::vector<record<T>>& records, PrefetchKey prefetch_key) {
    prefetched_.begin_batch(records.size());
    return {prefetched_.any(), records, std::move(prefetch_key)};
  }

  /// The timer services of both clocks (null: the function has no `on_timer`).
  void set_timers(detail::timer_service<K>* event, detail::timer_service<K>* processing) {
    event_timers_ = event;
    processing_timers_ = processing;
  }

  /// The clock of the timers about to fire.
  void set_firing(time_domain domain) noexcept { firing_ = domain; }

private:
  detail::timer_service<K>& timers(time_domain domain) {
    if (!event_timers_)
      throw failure(errc::configuration,
                    "a keyed process function uses timers but has no "
                    "on_timer(timestamp, sluice::keyed_context<K, Out>&)");
    return domain == time_domain::event_time ? *event_timers_ : *processing_timers_;
  }

  /// The table `name`; with a TTL, on the instance's event-time clock: the larger of its
  /// watermark and the event time of the record being processed.
  template <class V>
  std::shared_ptr<keyed_table<K, V>> table(const std::string& name, state_ttl ttl) {
    auto t = ctx_->state().template table<K, V>(
      name, ttl, [ctx = ctx_] { return std::max(ctx->current_time(), ctx->watermark()); });
    prefetched_.remember(t);
    return t;
  }

  context<Out>* ctx_;
  const K* key_ = nullptr;
  /// The tables the function has a handle of.
  detail::prefetch_set<K> prefetched_;
  detail::timer_service<K>* event_timers_ = nullptr;
  detail::timer_service<K>* processing_timers_ = nullptr;
  time_domain firing_ = time_domain::event_time;
};

/// A keyed process function with timers: it has `on_timer(timestamp, keyed_context<K, Out>&)`.
template <class F, class K, class Out>
concept has_on_timer = requires(F& f, timestamp t, keyed_context<K, Out>& c) {
  f.on_timer(t, c);
};

} // namespace sluice
