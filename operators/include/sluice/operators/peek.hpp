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
    for (const auto& r : records)
      std::invoke(fn_, r.value);
    ctx.emit_batch(std::move(records));
  }

private:
  F fn_;
};

} // namespace sluice::op
