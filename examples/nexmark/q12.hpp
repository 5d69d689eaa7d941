#pragma once

#include <chrono>

#include "sluice/windows/tumbling_window.hpp"

#include "nexmark/q11.hpp"

namespace sluice::nexmark::queries {

/// Query 12, processing-time windows: how many bids each bidder made in each 10 s of the clock
/// of the instance counting them (not of event time: the counts differ from run to run).
inline stream<bidder_count> q12(stream<event> events) {
  using namespace std::chrono_literals;
  return bids_per_bidder(std::move(events), tumbling_window{10s}.in_processing_time(), "q12");
}

} // namespace sluice::nexmark::queries
