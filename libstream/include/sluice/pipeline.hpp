#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <memory>
#include <ranges>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "sluice/detail/graph.hpp"
#include "sluice/detail/operator_host.hpp"
#include "sluice/detail/source_host.hpp"
#include "sluice/operator.hpp"
#include "sluice/operators/aggregate.hpp"
#include "sluice/operators/assign_watermarks.hpp"
#include "sluice/operators/co_process.hpp"
#include "sluice/operators/combine.hpp"
#include "sluice/operators/count.hpp"
#include "sluice/operators/dead_letter_source.hpp"
#include "sluice/operators/filter.hpp"
#include "sluice/operators/flat_map.hpp"
#include "sluice/operators/key_by.hpp"
#include "sluice/operators/map.hpp"
#include "sluice/operators/merge_aggregate.hpp"
#include "sluice/operators/peek.hpp"
#include "sluice/operators/process.hpp"
#include "sluice/operators/reduce.hpp"
#include "sluice/operators/source_watermarks.hpp"
#include "sluice/windows/count_trigger.hpp"
#include "sluice/windows/default_trigger.hpp"
#include "sluice/windows/evictors.hpp"
#include "sluice/windows/global_window.hpp"
#include "sluice/windows/purging_trigger.hpp"
#include "sluice/windows/time_window.hpp"
#include "sluice/windows/window_result.hpp"

namespace sluice {

namespace detail {
struct pipeline_access;
} // namespace detail

template <class T>
class stream;

template <class T, class KeyFn>
class keyed_stream;

template <class A, class B>
class connected_streams;

template <class A, class KeyA, class B, class KeyB>
class keyed_connected_streams;

template <class T, class KeyFn, class Assigner, class Trigger, class Evictor, bool Late = false>
class windowed_stream;

template <class R, class T>
class window_results;

template <class A, class KeyA, class B, class KeyB, class Assigner>
class window_joined_streams;

template <class K, class V>
class table;

template <class G, class GV>
class grouped_table;

template <class A, class KeyA, class B, class KeyB>
class interval_joined_streams;

template <class K, class V>
class table;

class runtime;

/// A pipeline under construction: a named graph of sources, operators and sinks.
///
/// Build it with `source(...)` and the methods of the streams it returns; run it with a
/// `runtime`. Misuse that the type system cannot catch (parallelism 0, no sink, ...) is
/// reported by `runtime::run` as an `errc::configuration` error naming the operator.
class pipeline {
public:
  explicit pipeline(std::string name) : name_(std::move(name)) {}

  pipeline(const pipeline&) = delete;
  pipeline& operator=(const pipeline&) = delete;

  /// Adds a source; `src` is a source object such as `sluice::from_collection(v)`.
  template <class Src>
  stream<typename Src::output_type> source(Src src);

  /// Adds a source whose event time and watermarks `strategy` makes, per split of the source
  /// (a Kafka partition, a byte range of a file, a generator's share), combined by minimum:
  /// Flink's `fromSource(source, strategy, name)`. The strategy's idleness lets a split without
  /// records stop holding the watermark back (op::source_watermarks).
  template <class Src, class Generator, class TimestampFn>
  stream<typename Src::output_type> source(Src src,
                                           watermark_strategy<Generator, TimestampFn> strategy);

  [[nodiscard]] const std::string& name() const noexcept { return name_; }

  /// The records that user code failed on in operators with `.on_failure(failure_policy::skip)`,
  /// as a stream of `dead_letter`s to end in any sink (Kafka Streams' dead-letter queue). One
  /// source emits them; each call returns its stream.
  stream<dead_letter> dead_letters();

  /// How the pipeline's supervisor handles an operator whose supervisor gave up (default:
  /// supervision::pipeline_default(), the job fails).
  pipeline& supervision(const sluice::supervision& s) {
    graph_->supervise = s;
    return *this;
  }

private:
  template <class T>
  friend class stream;
  template <class T, class KeyFn>
  friend class keyed_stream;
  template <class A, class B>
  friend class connected_streams;
  template <class A, class KeyA, class B, class KeyB>
  friend class keyed_connected_streams;
  friend struct detail::pipeline_access;

  template <class Host, class In, class Out, class Op>
  size_t add_node(Op op, std::string default_name) {
    auto node = std::make_unique<detail::host_node<Host, In, Out, Op>>(std::move(op));
    node->name = std::move(default_name) + "#" + std::to_string(graph_->nodes.size());
    graph_->nodes.push_back(std::move(node));
    return graph_->nodes.size() - 1;
  }

  std::string name_;
  /// Shared with the job that runs it, whose supervisors restart instances from it.
  std::shared_ptr<detail::graph> graph_ = std::make_shared<detail::graph>();
};

/// A stream of records of type T: the output of one or more operators (several after a union).
template <class T>
class stream {
  static_assert(serializable<T>,
                "Sluice records must be serializable with CAF's inspectors, since they may cross "
                "to another process: give the record type an inspect overload next to it, e.g. "
                "template <class Inspector> typename Inspector::result_type "
                "inspect(Inspector& f, my_record& x) { return f(x.field_a, x.field_b); }");

public:
  using value_type = T;

  /// Applies `fn(T) -> U` to every record.
  template <class F>
  auto map(F fn) {
    static_assert(std::is_invocable_v<F&, T&&>,
                  "map expects fn(T) -> U, fn(const T&) -> U or fn(T&&) -> U");
    using op_type = op::map<T, F>;
    static_assert(!std::is_void_v<typename op_type::output_type>,
                  "map: fn must return a value; use peek for side effects");
    return then<op_type>(op_type{std::move(fn)}, "map");
  }

  /// Keeps the records for which `fn(const T&)` is true.
  template <class F>
  stream<T> filter(F fn) {
    static_assert(std::is_invocable_r_v<bool, F&, const T&>, "filter expects fn(const T&) -> bool");
    return then<op::filter<T, F>>(op::filter<T, F>{std::move(fn)}, "filter");
  }

  /// Calls `fn(const T&)` on every record and passes it on.
  template <class F>
  stream<T> peek(F fn) {
    static_assert(std::is_invocable_v<F&, const T&>, "peek expects fn(const T&)");
    return then<op::peek<T, F>>(op::peek<T, F>{std::move(fn)}, "peek");
  }

  /// Turns each record into zero or more: `fn(const T&, sluice::emitter<Out>&)` (Out deduced
  /// from the parameter, or given as `flat_map<Out>(fn)`), `fn(T&&, sluice::emitter<Out>&)`,
  /// which may move from the record, or `fn(const T&)` returning a range.
  template <class Out = void, class F>
  auto flat_map(F fn) {
    using out_type = flat_map_output<Out, F>;
    static_assert(!std::is_void_v<out_type>,
                  "flat_map expects fn(const T&) -> range of Out, "
                  "fn(const T&, sluice::emitter<Out>&), or flat_map<Out>(fn(const T&, auto& out))");
    using op_type = op::flat_map<T, out_type, F>;
    return then<op_type>(op_type{std::move(fn)}, "flat_map");
  }

  /// A low-level operator: `fn(const T&, sluice::context<Out>&)`, or an object with
  /// `process(const T&, context<Out>&)` and optional `on_watermark`/`on_end`.
  template <class Out, class F>
  stream<Out> process(F fn) {
    static_assert(
      std::is_invocable_v<
        F&, const T&,
        context<Out>&> || requires(F & f, const T& x, context<Out>& c) { f.process(x, c); },
      "process<Out> expects fn(const T&, sluice::context<Out>&) or an object with "
      "process(const T&, sluice::context<Out>&)");
    return then<op::process<T, Out, F>>(op::process<T, Out, F>{std::move(fn)}, "process");
  }

  /// Sets the event time of each record and the watermarks of the stream by `strategy`
  /// (`bounded_out_of_orderness(d)`, `monotonous_timestamps()`, `custom_watermarks(g)`, with
  /// `.with_timestamps(fn)` and `.with_idleness(t)`): a stage whose watermarks replace those of
  /// its input (Flink's assignTimestampsAndWatermarks).
  template <class Generator, class TimestampFn>
  stream<T> assign_watermarks(watermark_strategy<Generator, TimestampFn> strategy) {
    static_assert(serializable<Generator>,
                  "assign_watermarks: the watermark generator is checkpointed, so it needs an "
                  "inspect overload (see sluice/watermark_strategy.hpp)");
    check_watermark_strategy<T, Generator, TimestampFn>();
    if (auto what = strategy.problem(); !what.empty())
      problem("assign_watermarks on the output of " + describe_heads() + ": " + what);
    using op_type = op::assign_watermarks<T, Generator, TimestampFn>;
    return then<op_type>(op_type{std::move(strategy)}, "assign_watermarks");
  }

  /// Partitions the stream by `key_fn(const T&) -> K`, for keyed operators.
  ///
  /// A key function may return a reference into the record (`std::identity{}` for a stream of
  /// keys, a pointer to a data member such as `&std::pair<K, V>::first`, or a lambda declared
  /// `-> const K&`): keyed operators then read the key in place and copy it only when they keep
  /// it. One that returns by value builds a key for every record.
  template <class KeyFn>
  keyed_stream<T, KeyFn> key_by(KeyFn key_fn) {
    static_assert(std::is_invocable_v<const KeyFn&, const T&>,
                  "key_by expects key_fn(const T&) -> K");
    static_assert(hashable_key<key_type_of<KeyFn, T>>,
                  "key_by: the key type needs a stable hash: integral, enum, std::string, "
                  "std::pair of those, or a sluice::key_hash<K> specialization");
    if (is_empty_key_function(key_fn))
      problem("key_by on the output of " + describe_heads() + " has an empty key function");
    return keyed_stream<T, KeyFn>{*this, std::move(key_fn)};
  }

  /// Cuts the whole stream into windows (Flink's windowAll): every record goes to one
  /// instance, whose results carry the key `all_records{}`. The window stage runs at
  /// parallelism 1; see keyed_stream::window for the rest.
  template <class Assigner>
  auto window_all(Assigner assigner) {
    return key_by([](const T&) { return all_records{}; }).window(std::move(assigner)).all();
  }

  /// Merges streams of the same type: the next operator reads all of them.
  template <class... Ts>
  stream<T> union_with(const stream<Ts>&... others) {
    static_assert((std::is_same_v<T, Ts> && ...), "union_with needs streams of the same type");
    stream<T> result = *this;
    (result.add_heads(others), ...);
    return result;
  }

  /// Connects this stream with `other` for a two-input operator (`.process<Out>(fn)`): records
  /// of both, of different types if need be, go to one operator that sees each input apart.
  template <class B>
  connected_streams<T, B> connect(const stream<B>& other) {
    if (other.p_ != p_)
      problem("connect of streams from different pipelines");
    return {*this, other};
  }

  /// Sends records to the next operator round robin.
  stream<T> rebalance() { return with_partitioning(partitioning::rebalance); }
  /// Sends every record to every instance of the next operator.
  stream<T> broadcast() { return with_partitioning(partitioning::broadcast); }
  /// Sends the records of instance i to instance i of the next operator (equal parallelism).
  stream<T> forward() { return with_partitioning(partitioning::forward); }

  /// Ends the stream in a sink such as `sluice::collect(v)` or `sluice::print()`.
  template <class Sink>
  stream<no_output> sink(Sink s) {
    if constexpr (requires { s.template bind<T>(); })
      return sink(s.template bind<T>());
    else
      return sink_impl(std::move(s));
  }

private:
  template <class Sink>
  stream<no_output> sink_impl(Sink s) {
    static_assert(sink_type<Sink>,
                  "sink expects a sink object such as sluice::collect(v), "
                  "sluice::print() or sluice::write_file(path)");
    static_assert(std::is_same_v<typename Sink::input_type, T>,
                  "sink: the sink's input type differs from the stream's record type");
    auto s2 = then<Sink>(std::move(s), "sink");
    p_->graph_->nodes[s2.heads_[0]]->is_sink = true;
    return s2;
  }

public:
  /// Sets the number of instances of the operator that produces this stream.
  stream<T>& parallelism(uint32_t n) {
    if (auto* node = single_head("parallelism"))
      node->parallelism = n;
    return *this;
  }

  /// Names the operator that produces this stream (for errors, metrics and the console).
  stream<T>& name(std::string n) {
    if (auto* node = single_head("name"))
      node->name = std::move(n);
    return *this;
  }

  /// What the operator that produces this stream does when its user code throws on a record
  /// (default: restart, from the last checkpoint).
  stream<T>& on_failure(failure_policy policy) {
    if (auto* node = single_head("on_failure"))
      node->on_failure = policy;
    return *this;
  }

  /// How the supervisor of the operator that produces this stream restarts its failed
  /// instances (default: supervision::operator_default()).
  stream<T>& supervision(const sluice::supervision& s) {
    if (auto* node = single_head("supervision"))
      node->supervise = s;
    return *this;
  }

private:
  friend class pipeline;
  template <class U>
  friend class stream;
  template <class U, class KeyFn>
  friend class keyed_stream;
  template <class A, class B>
  friend class connected_streams;
  template <class A, class KeyA, class B, class KeyB>
  friend class keyed_connected_streams;
  template <class U, class KeyFn, class Assigner, class Trigger, class Evictor, bool Late>
  friend class windowed_stream;
  template <class R, class U>
  friend class window_results;
  template <class K, class V>
  friend class table;
  template <class G, class GV>
  friend class grouped_table;

  stream(pipeline& p, std::vector<size_t> heads) : p_(&p), heads_(std::move(heads)) {}

  template <class Out, class F>
  static auto flat_map_output_impl() {
    if constexpr (!std::is_void_v<Out>) {
      return std::type_identity<Out>{};
    } else if constexpr (std::is_invocable_v<F&, const T&>) {
      using result = std::invoke_result_t<F&, const T&>;
      if constexpr (std::ranges::range<result>)
        return std::type_identity<std::ranges::range_value_t<result>>{};
      else
        return std::type_identity<void>{};
    } else if constexpr (std::is_pointer_v<F> && std::is_function_v<std::remove_pointer_t<F>>) {
      return emitter_arg(F{});
    } else if constexpr (requires { &F::operator(); }) {
      return emitter_arg(&F::operator());
    } else {
      return std::type_identity<void>{};
    }
  }

  template <class R, class A, class Out>
  static auto emitter_arg(R (*)(A, emitter<Out>&)) {
    return std::type_identity<Out>{};
  }

  template <class C, class R, class A, class Out>
  static auto emitter_arg(R (C::*)(A, emitter<Out>&) const) {
    return std::type_identity<Out>{};
  }

  template <class C, class R, class A, class Out>
  static auto emitter_arg(R (C::*)(A, emitter<Out>&)) {
    return std::type_identity<Out>{};
  }

  template <class Out, class F>
  using flat_map_output = typename decltype(flat_map_output_impl<Out, F>())::type;

  /// Adds an operator node reading this stream; returns its output stream.
  template <class Op>
  stream<typename Op::output_type> then(Op op, std::string default_name) {
    using host = detail::operator_host<Op>;
    auto id =
      p_->add_node<host, T, typename Op::output_type>(std::move(op), std::move(default_name));
    connect(id, nullptr);
    return {*p_, {id}};
  }

  /// Feeds this stream into input `Input` of the two-input operator node `to`: behind each head,
  /// a stage (at the head's parallelism, named `<operator>/<role>`) wraps each record into the
  /// operator's `two_inputs<A, B>`, and its edge to `to` partitions as this stream asks (by
  /// `key_hash` if given).
  template <size_t Input, class A, class B>
  void feed_input(size_t to, std::shared_ptr<const void> key_hash, const std::string& role) {
    auto wrap = [](T&& value) {
      return two_inputs<A, B>{std::in_place_index<Input>, std::move(value)};
    };
    using wrap_type = op::map<T, decltype(wrap)>;
    for (auto head : heads_) {
      auto id =
        p_->add_node<detail::operator_host<wrap_type>, T, two_inputs<A, B>>(wrap_type{wrap}, role);
      p_->graph_->nodes[id]->added = detail::node_base::added_stage{head, to, role};
      stream<T>{*p_, {head}}.connect(id, nullptr);
      stream<two_inputs<A, B>> wrapped{*p_, {id}};
      wrapped.kind_ = kind_;
      wrapped.connect(to, key_hash);
    }
  }

  void connect(size_t to, std::shared_ptr<const void> key_hash) {
    for (auto from : heads_) {
      detail::edge e;
      e.from = from;
      e.to = to;
      e.kind = key_hash ? partitioning::hash : kind_.value_or(partitioning::forward);
      e.explicit_kind = kind_.has_value() && !key_hash;
      e.key_hash = key_hash;
      p_->graph_->edges.push_back(std::move(e));
    }
  }

  stream<T> with_partitioning(partitioning kind) {
    auto result = *this;
    result.kind_ = kind;
    return result;
  }

  template <class U>
  void add_heads(const stream<U>& other) {
    if (other.p_ != p_) {
      problem("union_with of streams from different pipelines");
      return;
    }
    heads_.insert(heads_.end(), other.heads_.begin(), other.heads_.end());
  }

  /// Makes the operator that produces this stream a stage of operator `owner` that runs at the
  /// parallelism of node `input` (`owner` itself for a stage behind it).
  void mark_added(size_t input, size_t owner, std::string role) {
    p_->graph_->nodes[heads_[0]]->added =
      detail::node_base::added_stage{input, owner, std::move(role)};
  }

  /// Gives the operator that produces this stream the name `what#<node>`, as the pipeline names
  /// the operators a user does not: unique, so that two of them never share state.
  void default_name(const std::string& what) {
    p_->graph_->nodes[heads_[0]]->name = what + "#" + std::to_string(heads_[0]);
  }

  /// The node of the one operator that produces this stream: for a stage the pipeline added
  /// behind an operator (the results of a window with late records), that operator.
  detail::node_base* single_head(const char* what) {
    if (heads_.size() != 1) {
      problem(std::string{what} + " applied to a union of " + describe_heads()
              + ": set it on each input before the union");
      return nullptr;
    }
    auto* node = p_->graph_->nodes[heads_[0]].get();
    if (node->added && node->added->input == node->added->owner)
      return p_->graph_->nodes[node->added->owner].get();
    return node;
  }

  std::string describe_heads() const {
    std::string result;
    for (auto h : heads_)
      result += (result.empty() ? "'" : ", '") + p_->graph_->nodes[h]->name + "'";
    return result;
  }

  void problem(std::string text) { p_->graph_->problems.push_back(std::move(text)); }

  pipeline* p_;
  std::vector<size_t> heads_;
  std::optional<partitioning> kind_;
};

template <class Src>
stream<typename Src::output_type> pipeline::source(Src src) {
  static_assert(source_type<Src>,
                "source expects a source object such as "
                "sluice::from_collection(v), sluice::generate<T>(fn, options) "
                "or sluice::text_file(path)");
  using out = typename Src::output_type;
  bool bounded = src.bounded();
  auto id = add_node<detail::source_host<Src>, no_input, out>(std::move(src), "source");
  auto& node = *graph_->nodes[id];
  node.is_source = true;
  node.bounded = bounded;
  if constexpr (requires { Src::trails_other_sources; })
    node.trails_other_sources = Src::trails_other_sources;
  if constexpr (requires { Src::skips_undecodable_records; })
    node.skips_undecodable_records = Src::skips_undecodable_records;
  return {*this, {id}};
}

template <class Src, class Generator, class TimestampFn>
stream<typename Src::output_type> pipeline::source(
  Src src, watermark_strategy<Generator, TimestampFn> strategy) {
  static_assert(source_type<Src>, "source(src, strategy) expects a source object as src");
  using out = typename Src::output_type;
  check_watermark_strategy<out, Generator, TimestampFn>();
  auto what = strategy.problem();
  auto result =
    source(op::source_watermarks<Src, Generator, TimestampFn>{std::move(src), std::move(strategy)});
  if (!what.empty()) {
    auto number = std::ranges::count_if(graph_->nodes, [](auto& n) { return n->is_source; });
    graph_->problems.push_back("the watermark strategy of source number " + std::to_string(number)
                               + ": " + what);
  }
  return result;
}

inline stream<dead_letter> pipeline::dead_letters() {
  if (!graph_->dead_letters) {
    graph_->dead_letters = std::make_shared<dead_letter_store>();
    auto letters = source(op::dead_letter_source{graph_->dead_letters});
    auto id = letters.heads_.front();
    graph_->nodes[id]->name = "dead letters";
    graph_->dead_letter_node = id;
  }
  return {*this, {*graph_->dead_letter_node}};
}

} // namespace sluice

// keyed_stream, and the types `connect`, `window` and the joins return, which need stream
// complete.
#include "sluice/connected_streams.hpp"
#include "sluice/joined_streams.hpp"
#include "sluice/keyed_stream.hpp"
#include "sluice/table.hpp"
#include "sluice/windowed_stream.hpp"
