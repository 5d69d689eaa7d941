#pragma once

#include <cstdint>
#include <utility>

#include "nexmark/winning_bids.hpp"

namespace sluice::nexmark::queries {

/// The prices of a category's winning bids: their sum and how many.
struct price_total {
  int64_t sum = 0;
  int64_t count = 0;

  friend bool operator==(const price_total&, const price_total&) = default;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, price_total& x) {
  return f(x.sum, x.count);
}

/// Query 4, average price for a category: the average of the winning bids' prices of the
/// auctions of each category, as a table by category, updated as winning bids change (an
/// auction's old winning price leaves its category's average as the new one joins). The
/// average of integers is an integer, truncated, as in Flink SQL.
inline table<int64_t, int64_t> q4(stream<event> events) {
  return winning_bids(std::move(events))
    .group_by([](int64_t, const winning_bid& w) {
      return std::pair{w.auction.category, w.bid.price};
    })
    .aggregate(
      price_total{},
      [](price_total& t, int64_t price) {
        t.sum += price;
        ++t.count;
      },
      [](price_total& t, int64_t price) {
        t.sum -= price;
        --t.count;
      })
    .name("q4/average")
    .map_values([](const price_total& t) { return t.sum / t.count; })
    .name("q4");
}

} // namespace sluice::nexmark::queries
