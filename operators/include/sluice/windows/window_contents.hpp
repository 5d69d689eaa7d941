#pragma once

#include <functional>
#include <optional>
#include <span>
#include <utility>
#include <vector>

#include <caf/meta/type_name.hpp>

#include "sluice/context.hpp"
#include "sluice/record.hpp"
#include "sluice/state.hpp"
#include "sluice/windows/evictors.hpp"
#include "sluice/windows/time_window.hpp"
#include "sluice/windows/window_context.hpp"
#include "sluice/windows/window_result.hpp"

namespace sluice::detail {

// What a window holds between its records and its firing, and what it emits when it fires: the
// part of the window operator that differs between `reduce`, `aggregate` and a full window
// function (Flink's InternalWindowFunction with its window state). Each has a `state_type` the
// operator keeps per window in keyed state (its default value: nothing to fire), `add`, `merge`
// (for merging windows) and `fire(key, window, state, ctx)`, which emits into `ctx` with the
// event time the operator set (the window's max_timestamp).

/// Emits an incremental result as `window_result<K, R>`.
template <class K, class R>
struct emit_window_result {
  using output_type = window_result<K, R>;

  void operator()(const K& key, const time_window& w, R result, context<output_type>& ctx) const {
    ctx.emit(output_type{key, w, std::move(result)});
  }
};

/// Hands an incremental result to a window function `fn(key, window, result, window_context<Out>&)`
/// (Flink's aggregate or reduce with a ProcessWindowFunction).
template <class Out, class F>
struct emit_through {
  using output_type = Out;

  void operator()(const auto& key, const time_window& w, auto result,
                  context<output_type>& ctx) const {
    window_context<Out> out{ctx};
    std::invoke(fn, key, w, std::move(result), out);
  }

  F fn;
};

/// An aggregate function's accumulator per window.
template <class K, aggregate_function Agg,
          class Emit = emit_window_result<K, typename Agg::result_type>>
class aggregate_contents {
public:
  using input_type = typename Agg::input_type;
  using state_type = std::optional<typename Agg::accumulator_type>;
  using output_type = typename Emit::output_type;

  explicit aggregate_contents(Agg agg, Emit emit = {})
    : agg_(std::move(agg)), emit_(std::move(emit)) {}

  void add(state_type& s, const record<input_type>& r) const {
    if (!s)
      s = agg_.create();
    agg_.add(*s, r.value);
  }

  void merge(state_type& into, state_type&& from) const requires mergeable_aggregate<Agg> {
    if (!from)
      return;
    if (!into)
      into = std::move(from);
    else
      agg_.merge(*into, std::move(*from));
  }

  void fire(const K& key, const time_window& w, state_type& s, context<output_type>& ctx) const {
    if (s)
      emit_(key, w, agg_.result(*s), ctx);
  }

private:
  Agg agg_;
  Emit emit_;
};

/// A reduce function's running value per window: `fn(const T&, const T&) -> T`.
template <class K, class T, class F, class Emit = emit_window_result<K, T>>
class reduce_contents {
public:
  using input_type = T;
  using state_type = std::optional<T>;
  using output_type = typename Emit::output_type;

  explicit reduce_contents(F fn, Emit emit = {}) : fn_(std::move(fn)), emit_(std::move(emit)) {}

  void add(state_type& s, const record<T>& r) const {
    if (!s)
      s = r.value;
    else
      s = std::invoke(fn_, std::as_const(*s), r.value);
  }

  void merge(state_type& into, state_type&& from) const {
    if (!from)
      return;
    if (!into)
      into = std::move(from);
    else
      into = std::invoke(fn_, std::as_const(*into), std::as_const(*from));
  }

  void fire(const K& key, const time_window& w, state_type& s, context<output_type>& ctx) const {
    if (s)
      emit_(key, w, *s, ctx);
  }

private:
  F fn_;
  Emit emit_;
};

/// Every record of a window, for a function that sees them all when the window fires:
/// `fn(key, window, std::span<const T> values, window_context<Out>&)` (Flink's
/// ProcessWindowFunction),
/// after the evictor removed what it evicts.
template <class K, class T, class Out, class F, class Evictor = no_evictor>
class element_contents {
public:
  using input_type = T;
  using state_type = window_elements<T>;
  using output_type = Out;

  explicit element_contents(F fn, Evictor evictor = {})
    : fn_(std::move(fn)), evictor_(std::move(evictor)) {}

  void add(state_type& s, const record<T>& r) const {
    s.values.push_back(r.value);
    s.times.push_back(r.time);
  }

  void merge(state_type& into, state_type&& from) const {
    into.values.insert(into.values.end(), std::make_move_iterator(from.values.begin()),
                       std::make_move_iterator(from.values.end()));
    into.times.insert(into.times.end(), from.times.begin(), from.times.end());
  }

  void fire(const K& key, const time_window& w, state_type& s, context<output_type>& ctx) const {
    evictor_.evict(s);
    if (s.values.empty())
      return;
    window_context<Out> out{ctx};
    std::invoke(fn_, key, w, std::span<const T>{s.values}, out);
  }

private:
  F fn_;
  Evictor evictor_;
};

} // namespace sluice::detail
