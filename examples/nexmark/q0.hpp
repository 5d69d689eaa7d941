#pragma once

#include "nexmark/views.hpp"

namespace sluice::nexmark::queries {

/// Query 0, pass-through: every bid as it is; measures the source and the framework.
inline stream<bid> q0(stream<event> events) {
  return bids(std::move(events));
}

} // namespace sluice::nexmark::queries
