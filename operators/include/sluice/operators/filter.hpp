#pragma once

#include <functional>
#include <utility>
#include <vector>

#include "sluice/context.hpp"

namespace sluice::op {

/// Keeps the records for which `fn(const T&)` is true.
template <class T, class F>
class filter {
public:
  using input_type = T;
  using output_type = T;

  explicit filter(F fn) : fn_(std::move(fn)) {}

  void on_batch(std::vector<record<T>>& records, context<T>& ctx) {
    for (auto& r : records)
      if (std::invoke(fn_, std::as_const(r.value)))
        ctx.emit(std::move(r.value), r.time);
  }

private:
  F fn_;
};

} // namespace sluice::op
