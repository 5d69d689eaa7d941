#pragma once

#include <functional>
#include <memory>
#include <utility>

#include "sluice/operators/co_process.hpp"
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
    using op_type = op::keyed_co_process<A, KeyA, B, KeyB, Out, F>;
    using in_type = two_inputs<A, B>;
    auto& p = *first_.input_.p_;
    auto id = p.template add_node<detail::operator_host<op_type>, in_type, Out>(
      op_type{first_.key_fn_, second_.key_fn_, std::move(fn)}, "co_process");
    auto hash = std::make_shared<const std::function<uint64_t(const in_type&)>>(
      [first = first_.key_fn_, second = second_.key_fn_](const in_type& x) {
        if (x.index() == 0)
          return key_hash<key_type>{}(std::invoke(first, std::get<0>(x)));
        return key_hash<key_type>{}(std::invoke(second, std::get<1>(x)));
      });
    first_.input_.template feed_input<0, A, B>(id, hash, "first");
    second_.input_.template feed_input<1, A, B>(id, hash, "second");
    return {p, {id}};
  }

private:
  friend class keyed_stream<A, KeyA>;

  keyed_connected_streams(keyed_stream<A, KeyA> first, keyed_stream<B, KeyB> second)
    : first_(std::move(first)), second_(std::move(second)) {}

  keyed_stream<A, KeyA> first_;
  keyed_stream<B, KeyB> second_;
};

} // namespace sluice
