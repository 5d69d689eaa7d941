#pragma once

#include <chrono>
#include <cstdint>
#include <span>
#include <utility>
#include <vector>

#include "sluice/keyed_stream.hpp"
#include "sluice/windowed_stream.hpp"
#include "sluice/windows/tumbling_window.hpp"

#include "nexmark/views.hpp"

namespace sluice::nexmark::queries {

/// The bids of a window with its highest price (several when they tie).
struct highest_bids {
  using input_type = bid;
  using accumulator_type = std::vector<bid>;
  using result_type = std::vector<bid>;

  std::vector<bid> create() const { return {}; }

  void add(std::vector<bid>& best, const bid& b) const {
    if (!best.empty() && b.price < best.front().price)
      return;
    if (!best.empty() && b.price > best.front().price)
      best.clear();
    best.push_back(b);
  }

  void merge(std::vector<bid>& best, std::vector<bid>&& other) const {
    for (auto& b : other)
      add(best, b);
  }

  std::vector<bid> result(const std::vector<bid>& best) const { return best; }
};

/// Query 7, highest bid: the bids with the highest price of each 10-s window. Each auction's
/// highest bids per window first, then the highest of those in a second window stage keyed by
/// the window's end (the results of a window are stamped with its last moment, so they fall
/// into the same window there). Flink's q7 joins every bid with the window maxima on
/// `dateTime BETWEEN window_end - 10 s AND window_end`, inclusive at both ends, so a bid made at
/// the very end of a window is also reported with the window before when it has that window's
/// highest price; here a bid belongs to its one window, [start, end).
inline stream<bid> q7(stream<event> events) {
  using namespace std::chrono_literals;
  using auction_best = window_result<int64_t, std::vector<bid>>;
  auto per_auction = bids(std::move(events))
                       .key_by(&bid::auction)
                       .window(tumbling_window{10s})
                       .aggregate(highest_bids{});
  per_auction.name("q7/per_auction");
  auto highest = per_auction.key_by([](const auction_best& r) { return r.window.end; })
                   .window(tumbling_window{10s})
                   .process<bid>([](const timestamp&, const time_window&,
                                    std::span<const auction_best> bests, emitter<bid>& out) {
                     std::vector<bid> best;
                     for (const auto& r : bests)
                       highest_bids{}.merge(best, std::vector<bid>{r.value});
                     for (auto& b : best)
                       out(std::move(b));
                   });
  highest.name("q7");
  return highest;
}

} // namespace sluice::nexmark::queries
