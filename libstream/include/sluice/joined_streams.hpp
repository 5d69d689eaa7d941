#pragma once

#include <chrono>
#include <string>
#include <utility>

#include "sluice/connected_streams.hpp"
#include "sluice/joins/joiner.hpp"
#include "sluice/joins/window_join_contents.hpp"
#include "sluice/operators/interval_join.hpp"
#include "sluice/operators/window.hpp"
#include "sluice/windows/default_trigger.hpp"

namespace sluice::detail {

/// The join functions a join takes, one per kind, each returning a stream of what the function
/// returns; `Join::add<Kind>(fn)` builds the join.
template <class Join, class A, class B>
class join_kinds {
public:
  /// Pairs only: `fn(const A&, const B&) -> Out`.
  template <class F>
  auto join(F fn) {
    static_assert(join_function<F, join_kind::inner, A, B>,
                  "join expects fn(const A&, const B&) -> Out");
    return self().template add<join_kind::inner>(std::move(fn));
  }

  /// Pairs, and each record of the first stream without a partner: `fn(const A&, const B*) ->
  /// Out`, with a null B then.
  template <class F>
  auto left_join(F fn) {
    static_assert(join_function<F, join_kind::left, A, B>,
                  "left_join expects fn(const A&, const B*) -> Out (null: no partner)");
    return self().template add<join_kind::left>(std::move(fn));
  }

  /// Pairs, and each record of the second stream without a partner: `fn(const A*, const B&) ->
  /// Out`, with a null A then.
  template <class F>
  auto right_join(F fn) {
    static_assert(join_function<F, join_kind::right, A, B>,
                  "right_join expects fn(const A*, const B&) -> Out (null: no partner)");
    return self().template add<join_kind::right>(std::move(fn));
  }

  /// Pairs, and each record of either stream without a partner: `fn(const A*, const B*) ->
  /// Out`, with the missing side null.
  template <class F>
  auto full_join(F fn) {
    static_assert(join_function<F, join_kind::full, A, B>,
                  "full_join expects fn(const A*, const B*) -> Out (null: no partner)");
    return self().template add<join_kind::full>(std::move(fn));
  }

private:
  Join& self() { return static_cast<Join&>(*this); }
};

} // namespace sluice::detail

namespace sluice {

/// Two keyed streams joined per key and window (Flink's window join, returned by
/// keyed_stream::window_join): when a window fires, each record of the first stream in it meets
/// each record of the second in it with the same key; an outer join also emits the records of
/// a side whose window had none of the other. Results are stamped with the window's
/// max_timestamp(). The windows' records are keyed state (table "windows"), checkpointed,
/// restored, rescaled and removed as the window's state is (op::window, docs/windows.md);
/// records too late for every window they belong to join nothing and are counted.
template <class A, class KeyA, class B, class KeyB, class Assigner>
class window_joined_streams
  : public detail::join_kinds<window_joined_streams<A, KeyA, B, KeyB, Assigner>, A, B> {
public:
  using key_type = key_type_of<KeyA, A>;

  /// Keeps each window `lateness` past its end: a record that late still joins it and fires
  /// it again, with every pair of the window (event-time windows only).
  window_joined_streams allowed_lateness(std::chrono::milliseconds lateness) const {
    auto result = *this;
    result.lateness_ = lateness;
    if (lateness.count() < 0)
      result.inputs_.problem("window_join", "allowed lateness must not be negative (was "
                                              + std::to_string(lateness.count()) + " ms)");
    if (lateness.count() > 0 && assigner_.domain() == time_domain::processing_time)
      result.inputs_.problem(
        "window_join", "allowed lateness applies to event-time windows, not processing-time ones");
    return result;
  }

private:
  template <class U, class KeyU>
  friend class keyed_stream;
  friend class detail::join_kinds<window_joined_streams, A, B>;

  window_joined_streams(keyed_connected_streams<A, KeyA, B, KeyB> inputs, Assigner assigner)
    : inputs_(std::move(inputs)), assigner_(std::move(assigner)) {
    if (auto p = assigner_.problem())
      inputs_.problem("window_join", *p);
  }

  template <join_kind Kind, class F>
  auto add(F fn) {
    using joiner_type = detail::joiner<Kind, A, B, F>;
    using contents = detail::window_join_contents<key_type, A, B, joiner_type>;
    using op_type = op::window<two_inputs<A, B>, detail::two_input_key<A, KeyA, B, KeyB>, Assigner,
                               default_trigger, contents>;
    return inputs_.then(op_type{inputs_.key(), assigner_, default_trigger{assigner_.domain()},
                                contents{joiner_type{std::move(fn)}}, lateness_},
                        "window_join");
  }

  keyed_connected_streams<A, KeyA, B, KeyB> inputs_;
  Assigner assigner_;
  std::chrono::milliseconds lateness_{0};
};

/// Two keyed streams joined per key by event time within bounds (Flink's interval join,
/// returned by keyed_stream::interval_join): a record `a` of the first meets each record `b` of
/// the second with the same key and `a.time + lower <= b.time <= a.time + upper`, as soon as
/// both are there; results carry the later of the two times. An outer join emits a record
/// without a partner once the watermark says none can come. Waiting records are keyed state
/// (table "interval_join"), checkpointed, restored, rescaled, and removed once they can meet
/// no partner (op::interval_join). Both streams need event time.
template <class A, class KeyA, class B, class KeyB>
class interval_joined_streams
  : public detail::join_kinds<interval_joined_streams<A, KeyA, B, KeyB>, A, B> {
private:
  template <class U, class KeyU>
  friend class keyed_stream;
  friend class detail::join_kinds<interval_joined_streams, A, B>;

  interval_joined_streams(keyed_connected_streams<A, KeyA, B, KeyB> inputs,
                          std::chrono::milliseconds lower, std::chrono::milliseconds upper)
    : inputs_(std::move(inputs)), lower_(lower.count()), upper_(upper.count()) {
    if (lower > upper)
      inputs_.problem("interval_join", "the lower bound (" + std::to_string(lower_)
                                         + " ms) is above the upper bound ("
                                         + std::to_string(upper_) + " ms)");
  }

  template <join_kind Kind, class F>
  auto add(F fn) {
    using joiner_type = detail::joiner<Kind, A, B, F>;
    using op_type = op::interval_join<A, KeyA, B, KeyB, joiner_type>;
    return inputs_.then(op_type{inputs_.key(), joiner_type{std::move(fn)}, lower_, upper_},
                        "interval_join");
  }

  keyed_connected_streams<A, KeyA, B, KeyB> inputs_;
  timestamp lower_;
  timestamp upper_;
};

} // namespace sluice
