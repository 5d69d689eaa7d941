#pragma once

#include <functional>
#include <utility>
#include <vector>

#include "sluice/context.hpp"

namespace sluice::op {

/// Calls `fn(const T&)` on every record and passes it on unchanged (Kafka Streams' peek).
template <class T, class F>
class peek {
public:
  using input_type = T;
  using output_type = T;

  explicit peek(F fn) : fn_(std::move(fn)) {}

  void on_batch(std::vector<record<T>>& records, context<T>& ctx) {
    if (!ctx.skips_failed_records()) {
      for (const auto& r : records)
        std::invoke(fn_, r.value);
      return ctx.emit_batch(std::move(records));
    }
    ctx.for_each_record(records, [&](record<T>& r) {
      std::invoke(fn_, std::as_const(r.value));
      ctx.emit(std::move(r.value), r.time);
    });
  }

private:
  F fn_;
};

} // namespace sluice::op
