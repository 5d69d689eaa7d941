#pragma once

#include <chrono>
#include <functional>
#include <span>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>

#include "sluice/operators/alternative.hpp"
#include "sluice/operators/emitter.hpp"
#include "sluice/operators/window.hpp"
#include "sluice/pipeline.hpp"
#include "sluice/windows/evictors.hpp"
#include "sluice/windows/trigger.hpp"
#include "sluice/windows/window_contents.hpp"
#include "sluice/windows/window_context.hpp"
#include "sluice/windows/window_result.hpp"

namespace sluice {

/// The results of a window that hands on its late records (`with_late_records()`): a stream of
/// results `R`, and `late_records()`, the records of type T that came too late for any window.
/// Settings made on it (parallelism, name, failure policy) apply to the window operator.
template <class R, class T>
class window_results : public stream<R> {
public:
  /// The records that came after the watermark passed the end plus the allowed lateness of
  /// every window they belong to, with their own event time (Flink's sideOutputLateData): the
  /// output of a stage of their own, named "late_records" unless named otherwise.
  stream<T> late_records() {
    return both_.template then<op::alternative<std::variant<R, T>, 1>>({}, "late_records");
  }

private:
  template <class U, class KeyFn, class Assigner, class Trigger, class Evictor, bool Late>
  friend class windowed_stream;

  window_results(stream<R> results, stream<std::variant<R, T>> both)
    : stream<R>(std::move(results)), both_(std::move(both)) {}

  stream<std::variant<R, T>> both_;
};

/// A keyed stream cut into windows (Flink's WindowedStream): set a trigger, an evictor and the
/// allowed lateness, then give the function that turns a window into results (`reduce`,
/// `aggregate`, `process`). See docs/windows.md.
template <class T, class KeyFn, class Assigner, class Trigger, class Evictor, bool Late>
class windowed_stream {
public:
  using key_type = key_type_of<KeyFn, T>;

  /// What the window functions return: a stream of results `R`, and with `with_late_records()`
  /// its late records too (window_results).
  template <class R>
  using results = std::conditional_t<Late, window_results<R, T>, stream<R>>;

  /// Fires the windows by `trigger` (see sluice::trigger) instead of the assigner's default.
  template <class NewTrigger>
  windowed_stream<T, KeyFn, Assigner, NewTrigger, Evictor, Late> trigger(NewTrigger trigger) const {
    static_assert(sluice::trigger<NewTrigger>,
                  "trigger expects an object with a state_type and on_element, on_event_time, "
                  "on_processing_time, on_merge and merge_state (see sluice/windows/trigger.hpp)");
    return {input_, assigner_, std::move(trigger), evictor_, lateness_, all_};
  }

  /// Removes records from a window before its function sees them (`count_evictor`,
  /// `time_evictor`); the window then keeps its records, also for `reduce` and `aggregate`.
  template <class NewEvictor>
  windowed_stream<T, KeyFn, Assigner, Trigger, NewEvictor, Late> evictor(NewEvictor evictor) const {
    return {input_, assigner_, trigger_, std::move(evictor), lateness_, all_};
  }

  /// Keeps each event-time window's state `lateness` past its end: a record that comes that
  /// late still joins it and fires it again with the updated result. Later records are late
  /// and join no window.
  windowed_stream allowed_lateness(std::chrono::milliseconds lateness) const {
    auto result = *this;
    result.lateness_ = lateness;
    if (lateness.count() < 0)
      result.problem("allowed lateness must not be negative (was "
                     + std::to_string(lateness.count()) + " ms)");
    if (lateness.count() > 0 && assigner_.domain() == time_domain::processing_time)
      result.problem("allowed lateness applies to event-time windows, not processing-time ones");
    return result;
  }

  /// Hands the late records on instead of only counting them: the window function then returns
  /// window_results, whose `late_records()` is a stream of them (Flink's sideOutputLateData).
  windowed_stream<T, KeyFn, Assigner, Trigger, Evictor, true> with_late_records() const {
    return {input_, assigner_, trigger_, evictor_, lateness_, all_};
  }

  /// Folds each window's records with `fn(const T&, const T&) -> T`: a stream of
  /// `window_result<K, T>`, stamped with the window's max_timestamp().
  template <class F>
  results<window_result<key_type, T>> reduce(F fn) {
    static_assert(std::is_invocable_r_v<T, F&, const T&, const T&>,
                  "window reduce expects fn(const T&, const T&) -> T");
    if constexpr (keeps_records)
      return process<window_result<key_type, T>>([fn](const key_type& key, const time_window& w,
                                                      std::span<const T> values,
                                                      emitter<window_result<key_type, T>>& out) {
        T folded = values.front();
        for (const auto& v : values.subspan(1))
          folded = std::invoke(fn, std::as_const(folded), v);
        out({key, w, std::move(folded)});
      });
    else
      return add(detail::reduce_contents<key_type, T, F>{std::move(fn)});
  }

  /// Aggregates each window with an aggregate function (create/add/result; merging windows
  /// need `merge` too): a stream of `window_result<K, result_type>`.
  template <class Agg>
  results<window_result<key_type, typename Agg::result_type>> aggregate(Agg agg) {
    check_aggregate<Agg>();
    using result_type = window_result<key_type, typename Agg::result_type>;
    if constexpr (keeps_records)
      return process<result_type>([agg](const key_type& key, const time_window& w,
                                        std::span<const T> values, emitter<result_type>& out) {
        out({key, w, aggregate_all(agg, values)});
      });
    else
      return add(detail::aggregate_contents<key_type, Agg>{std::move(agg)});
  }

  /// Aggregates each window incrementally, then hands the result to a window function
  /// `fn(const K&, const time_window&, result_type, sluice::window_context<Out>&)` (or
  /// `sluice::emitter<Out>&`, when it only emits).
  template <class Out, class Agg, class F>
  results<Out> aggregate(Agg agg, F fn) {
    check_aggregate<Agg>();
    static_assert(std::is_invocable_v<F&, const key_type&, const time_window&,
                                      typename Agg::result_type, window_context<Out>&>,
                  "aggregate<Out>(agg, fn) expects fn(const K&, const sluice::time_window&, "
                  "result_type, sluice::window_context<Out>& or sluice::emitter<Out>&)");
    if constexpr (keeps_records)
      return process<Out>([agg, fn](const key_type& key, const time_window& w,
                                    std::span<const T> values, window_context<Out>& out) {
        std::invoke(fn, key, w, aggregate_all(agg, values), out);
      });
    else
      return add(detail::aggregate_contents<key_type, Agg, detail::emit_through<Out, F>>{
        std::move(agg), detail::emit_through<Out, F>{std::move(fn)}});
  }

  /// A full window function: `fn(const K&, const time_window&, std::span<const T>,
  /// sluice::window_context<Out>&)` sees every record of a window when it fires (Flink's
  /// ProcessWindowFunction), and the watermark and processing time then; its output is stamped
  /// with the window's max_timestamp(). A function that only emits may take `emitter<Out>&`.
  template <class Out, class F>
  results<Out> process(F fn) {
    static_assert(std::is_invocable_v<F&, const key_type&, const time_window&, std::span<const T>,
                                      window_context<Out>&>,
                  "window process<Out> expects fn(const K&, const sluice::time_window&, "
                  "std::span<const T>, sluice::window_context<Out>& or sluice::emitter<Out>&)");
    return add(detail::element_contents<key_type, T, Out, F, Evictor>{std::move(fn), evictor_});
  }

private:
  template <class U>
  friend class stream;
  template <class U, class KeyU>
  friend class keyed_stream;
  template <class U, class KeyU, class A, class Tr, class E, bool L>
  friend class windowed_stream;

  /// With an evictor, a window keeps its records and the function runs over them as it fires.
  static constexpr bool keeps_records = !std::is_same_v<Evictor, no_evictor>;

  windowed_stream(keyed_stream<T, KeyFn> input, Assigner assigner, Trigger trigger, Evictor evictor,
                  std::chrono::milliseconds lateness, bool all = false)
    : input_(std::move(input)),
      assigner_(std::move(assigner)),
      trigger_(std::move(trigger)),
      evictor_(std::move(evictor)),
      lateness_(lateness),
      all_(all) {}

  template <class Agg>
  static void check_aggregate() {
    static_assert(aggregate_function<Agg>,
                  "window aggregate expects an object with input_type, accumulator_type, "
                  "result_type, create(), add(acc&, const input_type&) and result(const acc&)");
    static_assert(std::is_same_v<typename Agg::input_type, T>,
                  "window aggregate: the function's input_type differs from the record type");
    static_assert(!Assigner::merging || keeps_records || mergeable_aggregate<Agg>,
                  "session windows merge, so their aggregate function needs "
                  "merge(accumulator_type&, accumulator_type&&)");
  }

  template <class Agg>
  static typename Agg::result_type aggregate_all(const Agg& agg, std::span<const T> values) {
    auto acc = agg.create();
    for (const auto& v : values)
      agg.add(acc, v);
    return agg.result(acc);
  }

  /// The windows of window_all: the window stage at parallelism 1.
  windowed_stream all() const {
    auto result = *this;
    result.all_ = true;
    return result;
  }

  template <class Contents>
  results<typename Contents::output_type> add(Contents contents) {
    using op_type = op::window<T, KeyFn, Assigner, Trigger, Contents, Late>;
    auto window =
      input_.then(op_type{input_.key_fn_, assigner_, trigger_, std::move(contents), lateness_},
                  all_ ? "window_all" : "window");
    if (all_)
      window.parallelism(1);
    if constexpr (Late) {
      using R = typename Contents::output_type;
      auto only_results =
        window.template then<op::alternative<std::variant<R, T>, 0>>({}, "results");
      only_results.mark_added(window.heads_[0], window.heads_[0], "results");
      return {std::move(only_results), std::move(window)};
    } else {
      return window;
    }
  }

  void problem(std::string text) {
    input_.input_.problem("window on the output of " + input_.input_.describe_heads() + ": "
                          + std::move(text));
  }

  keyed_stream<T, KeyFn> input_;
  Assigner assigner_;
  Trigger trigger_;
  Evictor evictor_;
  std::chrono::milliseconds lateness_{0};
  bool all_ = false;
};

} // namespace sluice
