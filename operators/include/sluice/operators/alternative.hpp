#pragma once

#include <cstddef>
#include <utility>
#include <variant>
#include <vector>

#include "sluice/context.hpp"

namespace sluice::op {

/// Passes on the records of a stream of `std::variant`s that hold alternative `I`, as values of
/// that alternative with their event time: how one output of an operator with several (the
/// results and the late records of a window) becomes a stream of its own.
template <class Variant, size_t I>
class alternative {
public:
  using input_type = Variant;
  using output_type = std::variant_alternative_t<I, Variant>;

  void on_batch(std::vector<record<Variant>>& records, context<output_type>& ctx) {
    for (auto& r : records)
      if (r.value.index() == I)
        ctx.emit(std::get<I>(std::move(r.value)), r.time);
  }
};

} // namespace sluice::op
