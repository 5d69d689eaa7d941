#pragma once

#include <functional>
#include <memory>
#include <string>
#include <utility>

#include "sluice/operators/co_process.hpp"
#include "sluice/operators/two_input_key.hpp"
#include "sluice/pipeline.hpp"

namespace sluice {

/// Two streams connected for a two-input operator (Flink's ConnectedStreams).
template <class A, class B>
class connected_streams {
public:
  /// A two-input operator: an object with `process_first(const A&, sluice::context<Out>&)` and
  /// `process_second(const B&, sluice::context<Out>&)`, optional `on_watermark` and `on_end`
  /// (see op::co_process). Each input keeps its partitioning (`b.broadcast()` sends every record
  /// of b to every instance).
  template <class Out, class F>
  stream<Out> process(F fn) {
    static_assert(
      requires(F & f, const A& a, const B& b, context<Out>& c) {
        f.process_first(a, c);
        f.process_second(b, c);
      },
      "connect(...).process<Out> expects an object with "
      "process_first(const A&, sluice::context<Out>&) and "
      "process_second(const B&, sluice::context<Out>&)");
    using op_type = op::co_process<A, B, Out, F>;
    auto& p = *first_.p_;
    auto id = p.template add_node<detail::operator_host<op_type>, two_inputs<A, B>, Out>(
      op_type{std::move(fn)}, "co_process");
    first_.template feed_input<0, A, B>(id, nullptr, "first");
    second_.template feed_input<1, A, B>(id, nullptr, "second");
    return {p, {id}};
  }

private:
  friend class stream<A>;

  connected_streams(stream<A> first, stream<B> second)
    : first_(std::move(first)), second_(std::move(second)) {}

  stream<A> first_;
  stream<B> second_;
};

/// Two keyed streams with one key type connected for a keyed two-input operator (Flink's
/// ConnectedStreams of two KeyedStreams).
template <class A, class KeyA, class B, class KeyB>
class keyed_connected_streams {
public:
  using key_type = key_type_of<KeyA, A>;

  /// A keyed two-input operator: an object with
  /// `process_first(const A&, sluice::keyed_context<K, Out>&)` and
  /// `process_second(const B&, sluice::keyed_context<K, Out>&)`, optional `on_watermark`,
  /// `on_end` and `on_timer` (see op::keyed_co_process).
  template <class Out, class F>
  stream<Out> process(F fn) {
    static_assert(
      requires(F & f, const A& a, const B& b, keyed_context<key_type, Out>& c) {
        f.process_first(a, c);
        f.process_second(b, c);
      },
      "keyed connect(...).process<Out> expects an object with "
      "process_first(const A&, sluice::keyed_context<K, Out>&) and "
      "process_second(const B&, sluice::keyed_context<K, Out>&)");
    return then(op::keyed_co_process<A, KeyA, B, KeyB, Out, F>{first_.key_fn_, second_.key_fn_,
                                                               std::move(fn)},
                "co_process");
  }

private:
  friend class keyed_stream<A, KeyA>;
  template <class U, class KeyU, class V, class KeyV, class Assigner>
  friend class window_joined_streams;
  template <class U, class KeyU, class V, class KeyV>
  friend class interval_joined_streams;

  keyed_connected_streams(keyed_stream<A, KeyA> first, keyed_stream<B, KeyB> second)
    : first_(std::move(first)), second_(std::move(second)) {}

  /// Adds the keyed two-input operator `op` reading both streams, each partitioned by its key.
  template <class Op>
  stream<typename Op::output_type> then(Op op, std::string default_name) {
    using in_type = two_inputs<A, B>;
    auto& p = *first_.input_.p_;
    auto id = p.template add_node<detail::operator_host<Op>, in_type, typename Op::output_type>(
      std::move(op), std::move(default_name));
    auto hash = std::make_shared<const std::function<uint64_t(const in_type&)>>(
      [key = key()](const in_type& x) { return key_hash<key_type>{}(key(x)); });
    first_.input_.template feed_input<0, A, B>(id, hash, "first");
    second_.input_.template feed_input<1, A, B>(id, hash, "second");
    return {p, {id}};
  }

  /// The key of a record of either stream.
  [[nodiscard]] detail::two_input_key<A, KeyA, B, KeyB> key() const {
    return {first_.key_fn_, second_.key_fn_};
  }

  /// Fails the run with `text` about the operator reading both streams.
  void problem(const std::string& what, const std::string& text) {
    first_.input_.problem(what + " of " + first_.input_.describe_heads() + " and "
                          + second_.input_.describe_heads() + ": " + text);
  }

  keyed_stream<A, KeyA> first_;
  keyed_stream<B, KeyB> second_;
};

} // namespace sluice
