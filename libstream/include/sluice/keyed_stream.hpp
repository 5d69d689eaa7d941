#pragma once

#include <chrono>
#include <string>
#include <variant>

#include "sluice/joins/joiner.hpp"
#include "sluice/pipeline.hpp"
#include "sluice/tables/stream_table_join.hpp"
#include "sluice/tables/table_change.hpp"
#include "sluice/tables/temporal_table_join.hpp"
#include "sluice/tables/upsert.hpp"

namespace sluice {

/// A stream partitioned by key: keyed operators see all records of a key in one instance, in
/// the order they were sent, and keep state per key.
template <class T, class KeyFn>
class keyed_stream {
public:
  using key_type = key_type_of<KeyFn, T>;

  /// Counts records per key: a stream of `(key, count)`.
  stream<std::pair<key_type, int64_t>> count() {
    return aggregate_impl(count_function<T>{}, "count");
  }

  /// Folds the records of each key with `fn(T, T) -> T`: a stream of `(key, reduced)`. `fn` must
  /// be associative: in batch mode each input instance pre-reduces its records before the
  /// shuffle (see op::combine).
  template <class F>
  stream<std::pair<key_type, T>> reduce(F fn) {
    static_assert(std::is_invocable_r_v<T, F&, T, const T&>, "reduce expects fn(T, const T&) -> T");
    return aggregate_impl(reduce_function<T, F>{std::move(fn)}, "reduce");
  }

  /// Aggregates each key with an aggregate function (create/add/result, as Flink's
  /// AggregateFunction): a stream of `(key, result)`. With `merge(acc&, acc&&)` as well, it
  /// pre-aggregates before the shuffle like count and reduce.
  template <class Agg>
  auto aggregate(Agg agg) {
    static_assert(aggregate_function<Agg>,
                  "aggregate expects an object with input_type, accumulator_type, result_type, "
                  "create(), add(acc&, const input_type&) and result(const acc&)");
    static_assert(std::is_same_v<typename Agg::input_type, T>,
                  "aggregate: the function's input_type differs from the stream's record type");
    return aggregate_impl(std::move(agg), "aggregate");
  }

  /// A keyed low-level operator: `fn(const T&, sluice::keyed_context<K, Out>&)` with keyed state.
  template <class Out, class F>
  stream<Out> process(F fn) {
    static_assert(
      std::is_invocable_v<
        F&, const T&,
        keyed_context<
          key_type,
          Out>&> || requires(F & f, const T& x, keyed_context<key_type, Out>& c) { f.process(x, c); },
      "keyed process<Out> expects fn(const T&, sluice::keyed_context<K, Out>&) or an "
      "object with process(const T&, sluice::keyed_context<K, Out>&)");
    using op_type = op::keyed_process<T, KeyFn, Out, F>;
    return then<op_type>(op_type{key_fn_, std::move(fn)}, "process");
  }

  /// Connects this keyed stream with `other`, keyed to the same key type, for a keyed
  /// two-input operator (`.process<Out>(fn)`): the records of both with one key meet in one
  /// instance, with one keyed state and timers.
  template <class B, class KeyB>
  keyed_connected_streams<T, KeyFn, B, KeyB> connect(const keyed_stream<B, KeyB>& other) {
    static_assert(std::is_same_v<key_type, typename keyed_stream<B, KeyB>::key_type>,
                  "connect: both keyed streams need the same key type, as in "
                  "a.key_by(fn(const A&) -> K).connect(b.key_by(fn(const B&) -> K))");
    if (other.input_.p_ != input_.p_)
      input_.problem("connect of streams from different pipelines");
    return {*this, other};
  }

  /// The stream as a changelog table (Kafka Streams' KStream.toTable): each record becomes its
  /// key's value, replacing the one before; see table.
  auto to_table() {
    return to_table([](const T& x) { return std::optional<T>{x}; });
  }

  /// The stream as a changelog table whose values `value(const T&) -> std::optional<V>` gives:
  /// a value replaces the key's one before, none (a tombstone) deletes the key. The operator
  /// ("to_table") keeps the table's contents in keyed state table "table" (read them from
  /// outside with state_view); see table.
  template <class F>
  auto to_table(F value) {
    static_assert(
      requires(F & f, const T& x) {
        { std::invoke(f, x) } -> detail::optional_value;
      },
      "to_table expects fn(const T&) -> std::optional<V> (none: delete the key)");
    using V = typename std::invoke_result_t<F&, const T&>::value_type;
    using function = detail::upsert_function<T, key_type, V, F>;
    using op_type = op::keyed_process<T, KeyFn, table_change<key_type, V>, function>;
    return table<key_type, V>{
      then<op_type>(op_type{key_fn_, function{std::move(value)}}, "to_table")};
  }

  /// Joins each record with its key's current value in `t` as the record arrives (Kafka
  /// Streams' KStream-KTable join): `fn(const T&, const W&) -> Out`; a record whose key has no
  /// value joins nothing, and changes of the table emit nothing. Which value a record meets
  /// depends on what arrived first; for a result fixed by event time, see temporal_join.
  template <class W, class F>
  auto join(const table<key_type, W>& t, F fn) {
    static_assert(detail::join_function<F, join_kind::inner, T, W>,
                  "stream-table join expects fn(const T&, const W&) -> Out");
    return join_table<join_kind::inner, detail::stream_table_lookup>(t, std::move(fn), "join");
  }

  /// As the stream-table join, keeping every record: `fn(const T&, const W*) -> Out`, null
  /// when the key has no value (Kafka Streams' KStream-KTable leftJoin).
  template <class W, class F>
  auto left_join(const table<key_type, W>& t, F fn) {
    static_assert(detail::join_function<F, join_kind::left, T, W>,
                  "stream-table left_join expects fn(const T&, const W*) -> Out (null: none)");
    return join_table<join_kind::left, detail::stream_table_lookup>(t, std::move(fn), "join");
  }

  /// Joins each record with the value its key had in `t` at the record's event time (Flink's
  /// event-time temporal join, `FOR SYSTEM_TIME AS OF`): `fn(const T&, const W&) -> Out`. A
  /// record waits until the watermark reaches its time; late records are dropped and counted.
  template <class W, class F>
  auto temporal_join(const table<key_type, W>& t, F fn) {
    static_assert(detail::join_function<F, join_kind::inner, T, W>,
                  "temporal_join expects fn(const T&, const W&) -> Out");
    return join_table<join_kind::inner, detail::temporal_table_join>(t, std::move(fn),
                                                                     "temporal_join");
  }

  /// As temporal_join, keeping every record: `fn(const T&, const W*) -> Out`, null when the key
  /// had no value at the record's time.
  template <class W, class F>
  auto left_temporal_join(const table<key_type, W>& t, F fn) {
    static_assert(detail::join_function<F, join_kind::left, T, W>,
                  "left_temporal_join expects fn(const T&, const W*) -> Out (null: none)");
    return join_table<join_kind::left, detail::temporal_table_join>(t, std::move(fn),
                                                                    "temporal_join");
  }

  /// Joins this stream with `other`, keyed to the same key type, in the windows `assigner`
  /// gives their records (`tumbling_window`, `sliding_window`, `session_window`): when a
  /// window fires, every record of this stream in it meets every record of `other` in it with
  /// the same key (Flink's window join). Give the join function with `.join(fn)`,
  /// `.left_join(fn)`, `.right_join(fn)` or `.full_join(fn)`; see window_joined_streams.
  template <class B, class KeyB, class Assigner>
  auto window_join(const keyed_stream<B, KeyB>& other, Assigner assigner) {
    static_assert(std::is_same_v<key_type, typename keyed_stream<B, KeyB>::key_type>,
                  "window_join: both keyed streams need the same key type, as in "
                  "a.key_by(fn(const A&) -> K).window_join(b.key_by(fn(const B&) -> K), w)");
    static_assert(
      requires(const Assigner& a, const std::variant<T, B>& x, timestamp t) {
        a.assign(x, t, [](const time_window&) {});
        { a.domain() } -> std::same_as<time_domain>;
      } && !std::is_same_v<Assigner, global_window>,
      "window_join expects a time window assigner: sluice::tumbling_window{size}, "
      "sluice::sliding_window{size, slide} or sluice::session_window{gap}");
    return window_joined_streams<T, KeyFn, B, KeyB, Assigner>{joined_with(other, "window_join"),
                                                              std::move(assigner)};
  }

  /// Joins this stream with `other`, keyed to the same key type, by event time: a record `a`
  /// of this stream meets each record `b` of `other` with the same key and
  /// `a.time + lower <= b.time <= a.time + upper` (Flink's interval join). Give the join
  /// function with `.join(fn)`, `.left_join(fn)`, `.right_join(fn)` or `.full_join(fn)`; see
  /// interval_joined_streams.
  template <class B, class KeyB>
  auto interval_join(const keyed_stream<B, KeyB>& other, std::chrono::milliseconds lower,
                     std::chrono::milliseconds upper) {
    static_assert(std::is_same_v<key_type, typename keyed_stream<B, KeyB>::key_type>,
                  "interval_join: both keyed streams need the same key type, as in "
                  "a.key_by(fn(const A&) -> K).interval_join(b.key_by(fn(const B&) -> K), ...)");
    return interval_joined_streams<T, KeyFn, B, KeyB>{joined_with(other, "interval_join"), lower,
                                                      upper};
  }

  /// Cuts each key's records into the windows `assigner` gives them (`tumbling_window`,
  /// `sliding_window`, `session_window`, `dynamic_session_window`, `global_window`), fired by
  /// the assigner's default trigger until `.trigger(...)` sets another; see windowed_stream.
  template <class Assigner>
  auto window(Assigner assigner) {
    static_assert(
      requires(const Assigner& a, const T& x, timestamp t) {
        a.assign(x, t, [](const time_window&) {});
        { a.domain() } -> std::same_as<time_domain>;
        { a.problem() } -> std::same_as<std::optional<std::string>>;
      },
      "window expects a window assigner such as sluice::tumbling_window{size}, "
      "sluice::sliding_window{size, slide}, sluice::session_window{gap} or "
      "sluice::global_window{}");
    if (auto p = assigner.problem())
      input_.problem("window on the output of " + input_.describe_heads() + ": " + *p);
    if constexpr (std::is_same_v<Assigner, global_window>) {
      return windowed_stream<T, KeyFn, Assigner, never_trigger, no_evictor>{
        *this, std::move(assigner), never_trigger{}, no_evictor{}, {}};
    } else {
      auto trigger = default_trigger{assigner.domain()};
      return windowed_stream<T, KeyFn, Assigner, default_trigger, no_evictor>{
        *this, std::move(assigner), trigger, no_evictor{}, {}};
    }
  }

  /// Windows of `size` records per key, each fired when full and then emptied (Flink's
  /// countWindow(size)).
  auto count_window(uint64_t size) {
    if (size == 0)
      input_.problem("count_window on the output of " + input_.describe_heads()
                     + ": the size must be positive");
    return window(global_window{}).trigger(purging_trigger{count_trigger{size}});
  }

  /// The last `size` records of each key, fired every `slide` records (Flink's
  /// countWindow(size, slide)).
  auto count_window(uint64_t size, uint64_t slide) {
    if (size == 0 || slide == 0)
      input_.problem("count_window on the output of " + input_.describe_heads()
                     + ": the size and the slide must be positive");
    return window(global_window{})
      .evictor(count_evictor{static_cast<size_t>(size)})
      .trigger(count_trigger{slide});
  }

private:
  friend class stream<T>;
  template <class U, class KeyU>
  friend class keyed_stream;
  template <class A, class KeyA, class B, class KeyB>
  friend class keyed_connected_streams;
  template <class U, class KeyU, class Assigner, class Trigger, class Evictor, bool Late>
  friend class windowed_stream;
  keyed_stream(stream<T> input, KeyFn key_fn)
    : input_(std::move(input)), key_fn_(std::move(key_fn)) {}

  /// This stream joined with table `t` by the keyed two-input function `Function<T, K, W,
  /// joiner>`.
  template <join_kind Kind, template <class, class, class, class> class Function, class W, class F>
  auto join_table(const table<key_type, W>& t, F fn, std::string what) {
    using joiner = detail::joiner<Kind, T, W, F>;
    auto changes = t.changes_;
    auto joined = connect(changes.key_by(&table_change<key_type, W>::key))
                    .template process<typename joiner::output_type>(
                      Function<T, key_type, W, joiner>{joiner{std::move(fn)}});
    joined.name(std::move(what));
    return joined;
  }

  /// This stream and `other` connected for a join.
  template <class B, class KeyB>
  keyed_connected_streams<T, KeyFn, B, KeyB> joined_with(const keyed_stream<B, KeyB>& other,
                                                         const std::string& what) {
    if (other.input_.p_ != input_.p_)
      input_.problem(what + " of streams from different pipelines");
    return {*this, other};
  }

  /// A keyed aggregation: one stage after the shuffle, or, when the aggregate function can
  /// merge accumulators, a combine stage behind each input and a merge stage after the shuffle.
  template <class Agg>
  stream<std::pair<key_type, typename Agg::result_type>> aggregate_impl(Agg agg, std::string what) {
    if constexpr (mergeable_aggregate<Agg>) {
      using combine_type = op::combine<T, KeyFn, Agg>;
      using partial = typename combine_type::output_type;
      using merge_type = op::merge_aggregate<key_type, Agg>;
      auto& p = *input_.p_;
      auto merge_id =
        p.template add_node<detail::operator_host<merge_type>, partial,
                            typename merge_type::output_type>(merge_type{agg, what}, what);
      auto hash = std::make_shared<const std::function<uint64_t(const partial&)>>(
        [](const partial& x) { return key_hash<key_type>{}(x.first); });
      for (auto head : input_.heads_) {
        auto combine_id = p.template add_node<detail::operator_host<combine_type>, T, partial>(
          combine_type{key_fn_, agg}, what + "/combine");
        p.graph_->nodes[combine_id]->added =
          detail::node_base::added_stage{head, merge_id, "combine"};
        stream<T>{p, {head}}.connect(combine_id, nullptr);
        stream<partial>{p, {combine_id}}.connect(merge_id, hash);
      }
      return {p, {merge_id}};
    } else {
      using op_type = op::aggregate<T, KeyFn, Agg>;
      return then<op_type>(op_type{key_fn_, std::move(agg), what}, what);
    }
  }

  template <class Op>
  stream<typename Op::output_type> then(Op op, std::string default_name) {
    using host = detail::operator_host<Op>;
    auto& p = *input_.p_;
    auto id = p.template add_node<host, T, typename Op::output_type>(std::move(op),
                                                                     std::move(default_name));
    auto hash = std::make_shared<const std::function<uint64_t(const T&)>>(
      [fn = key_fn_](const T& x) { return key_hash<key_type>{}(std::invoke(fn, x)); });
    input_.connect(id, hash);
    return {p, {id}};
  }

  stream<T> input_;
  KeyFn key_fn_;
};

} // namespace sluice
