#pragma once

#include <cstdint>
#include <string>

#include "nexmark/views.hpp"

namespace sluice::nexmark::queries {

/// An auction and a price bid for it.
struct auction_price {
  int64_t auction = 0;
  int64_t price = 0;

  friend bool operator==(const auction_price&, const auction_price&) = default;
  friend auto operator<=>(const auction_price&, const auction_price&) = default;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, auction_price& x) {
  return f(x.auction, x.price);
}

/// Query 2, selection: the bids for every 123rd auction (Flink's variant of the original's five
/// auction ids), as auction and price.
inline stream<auction_price> q2(stream<event> events) {
  return calc<bid, auction_price>(std::move(events), "q2",
                                  [](bid&& b, emitter<auction_price>& out) {
                                    if (b.auction % 123 == 0)
                                      out(auction_price{b.auction, b.price});
                                  });
}

inline std::string to_csv(const auction_price& r) {
  return csv(r.auction, r.price);
}

} // namespace sluice::nexmark::queries
