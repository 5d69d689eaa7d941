#pragma once

#include <cstdint>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <string>
#include <unordered_map>

#include "nexmark/side_input.hpp"
#include "nexmark/views.hpp"

namespace sluice::nexmark::queries {

/// A bid with the side input's value for it.
struct enriched_bid {
  int64_t auction = 0;
  int64_t bidder = 0;
  int64_t price = 0;
  timestamp date_time = 0;
  std::string value;

  friend bool operator==(const enriched_bid&, const enriched_bid&) = default;
  friend auto operator<=>(const enriched_bid&, const enriched_bid&) = default;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, enriched_bid& x) {
  return f(x.auction, x.bidder, x.price, x.date_time, x.value);
}

/// Query 13, bounded side input join: each bid joined with the row of `side` keyed by its
/// auction modulo 10,000 (bids without one are dropped: an inner join). Flink looks the row up
/// in the side input's table as each bid comes; the side input is small and fixed, so here
/// every instance holds all of it (a broadcast hash join). Beam's q13 keys by bidder instead.
inline stream<enriched_bid> q13(stream<event> events, std::shared_ptr<const side_input> side) {
  return calc<bid, enriched_bid>(
    std::move(events), "q13", [side](bid&& b, emitter<enriched_bid>& out) {
      if (auto row = side->find(b.auction % 10'000); row != side->end())
        out(enriched_bid{b.auction, b.bidder, b.price, b.date_time, row->second});
    });
}

inline std::string to_csv(const enriched_bid& b) {
  return csv(b.auction, b.bidder, b.price, format_date_time(b.date_time), b.value);
}

} // namespace sluice::nexmark::queries
