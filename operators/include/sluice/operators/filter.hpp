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
    // Keep the passing records in place, in order, and pass the vector on.
    auto kept = records.begin();
    ctx.for_each_record(records, [&](record<T>& r) {
      if (std::invoke(fn_, std::as_const(r.value))) {
        if (&*kept != &r)
          *kept = std::move(r);
        ++kept;
      }
    });
    records.erase(kept, records.end());
    ctx.emit_batch(std::move(records));
  }

private:
  F fn_;
};

} // namespace sluice::op
