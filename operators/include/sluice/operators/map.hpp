#pragma once

#include <functional>
#include <type_traits>
#include <utility>
#include <vector>

#include "sluice/context.hpp"

namespace sluice::op {

/// Applies a function to every record: `fn(T) -> U`. The event time is kept.
template <class In, class F>
class map {
public:
  using input_type = In;
  using output_type = std::decay_t<std::invoke_result_t<F&, In&&>>;

  explicit map(F fn) : fn_(std::move(fn)) {}

  void on_batch(std::vector<record<In>>& records, context<output_type>& ctx) {
    if (ctx.skips_failed_records()) {
      // A record fn fails on becomes a dead letter: fn gets a copy, the record stays intact.
      ctx.for_each_record(records,
                          [&](record<In>& r) { ctx.emit(std::invoke(fn_, In(r.value)), r.time); });
    } else if constexpr (std::is_same_v<In, output_type>) {
      // Same type in and out: rewrite the batch in place and pass the vector on.
      for (auto& r : records)
        r.value = std::invoke(fn_, std::move(r.value));
      ctx.emit_batch(std::move(records));
    } else {
      for (auto& r : records)
        ctx.emit(std::invoke(fn_, std::move(r.value)), r.time);
    }
  }

private:
  F fn_;
};

} // namespace sluice::op
