#pragma once

#include <string>

#include "nexmark/winning_bids.hpp"

namespace sluice::nexmark::queries {

/// Query 9, winning bids: each auction with its highest bid made while it was open (the
/// earliest of equal ones), as a table by auction id updated as higher bids come. As Flink's q9
/// it neither waits for the auction to close nor checks the reserve price; Beam's does both.
inline table<int64_t, winning_bid> q9(stream<event> events) {
  return winning_bids(std::move(events));
}

/// The auction's fields and the bid's, as Flink's q9 sink holds them.
inline std::string to_csv(const winning_bid& w) {
  const auto& a = w.auction;
  const auto& b = w.bid;
  return csv(a.id, a.item_name, a.description, a.initial_bid, a.reserve,
             format_date_time(a.date_time), format_date_time(a.expires), a.seller, a.category,
             a.extra, b.auction, b.bidder, b.price, format_date_time(b.date_time), b.extra);
}

} // namespace sluice::nexmark::queries
