#pragma once

#include <functional>
#include <ranges>
#include <type_traits>
#include <utility>
#include <vector>

#include "sluice/context.hpp"
#include "sluice/operators/emitter.hpp"

namespace sluice::op {

/// Turns each record into zero or more records: `fn(const T&, emitter<Out>&)`,
/// `fn(T&&, emitter<Out>&)` (which may move from the record: under `failure_policy::skip` it
/// gets a copy, so that a failure leaves the record intact for its dead letter), or
/// `fn(const T&)` returning a range of Out. Every output keeps the input's event time.
template <class In, class Out, class F>
class flat_map {
public:
  using input_type = In;
  using output_type = Out;

  explicit flat_map(F fn) : fn_(std::move(fn)) {}

  void on_batch(std::vector<record<In>>& records, context<Out>& ctx) {
    emitter<Out> out{ctx};
    ctx.for_each_record(records, [&](record<In>& r) {
      ctx.set_current_time(r.time);
      if constexpr (std::is_invocable_v<F&, const In&, emitter<Out>&>) {
        std::invoke(fn_, std::as_const(r.value), out);
      } else if constexpr (std::is_invocable_v<F&, In&&, emitter<Out>&>) {
        if (ctx.skips_failed_records())
          std::invoke(fn_, In(r.value), out);
        else
          std::invoke(fn_, std::move(r.value), out);
      } else {
        for (auto&& x : std::invoke(fn_, std::as_const(r.value)))
          out(Out(std::forward<decltype(x)>(x)));
      }
    });
  }

private:
  F fn_;
};

} // namespace sluice::op
