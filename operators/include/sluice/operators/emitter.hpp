#pragma once

#include <utility>

#include "sluice/context.hpp"

namespace sluice {

/// Where a function that emits any number of records puts them (flat_map, a window function):
/// `out(value)`, stamped with the event time the operator set.
template <class Out>
class emitter {
public:
  explicit emitter(context<Out>& ctx) : ctx_(&ctx) {}

  void operator()(Out&& value) { ctx_->emit(std::move(value)); }
  void operator()(const Out& value) { ctx_->emit(value); }

protected:
  context<Out>* ctx_;
};

} // namespace sluice
