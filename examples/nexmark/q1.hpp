#pragma once

#include <cstdint>
#include <string>

#include "nexmark/views.hpp"

namespace sluice::nexmark::queries {

/// A bid with its price in euros.
struct euro_bid {
  int64_t auction = 0;
  int64_t bidder = 0;
  /// Euro cents in thousandths: Flink's DECIMAL(23, 3) of `0.908 * price`, exactly.
  int64_t price_thousandths = 0;
  timestamp date_time = 0;
  std::string extra;

  friend bool operator==(const euro_bid&, const euro_bid&) = default;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, euro_bid& x) {
  return f(x.auction, x.bidder, x.price_thousandths, x.date_time, x.extra);
}

/// 0.908 euros to the dollar, in thousandths.
inline int64_t in_euro_thousandths(int64_t dollars) {
  return dollars * 908;
}

/// Query 1, currency conversion: each bid's price from dollars into euros.
inline stream<euro_bid> q1(stream<event> events) {
  return calc<bid, euro_bid>(std::move(events), "q1", [](bid&& b, emitter<euro_bid>& out) {
    out(
      euro_bid{b.auction, b.bidder, in_euro_thousandths(b.price), b.date_time, std::move(b.extra)});
  });
}

inline std::string to_csv(const euro_bid& b) {
  return csv(b.auction, b.bidder, decimal_3(b.price_thousandths), format_date_time(b.date_time),
             b.extra);
}

} // namespace sluice::nexmark::queries
