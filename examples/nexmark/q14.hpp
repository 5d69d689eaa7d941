#pragma once

#include <algorithm>
#include <cstdint>
#include <string>

#include "nexmark/q1.hpp"

namespace sluice::nexmark::queries {

/// A bid in euros, with the part of the day it was made in and a count of the c's in its extra.
struct labelled_bid {
  int64_t auction = 0;
  int64_t bidder = 0;
  int64_t price_thousandths = 0; // euro cents in thousandths, as euro_bid
  std::string bid_time_type;     // "dayTime", "nightTime" or "otherTime"
  timestamp date_time = 0;
  std::string extra;
  int64_t c_counts = 0;

  friend bool operator==(const labelled_bid&, const labelled_bid&) = default;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, labelled_bid& x) {
  return f(x.auction, x.bidder, x.price_thousandths, x.bid_time_type, x.date_time, x.extra,
           x.c_counts);
}

/// "dayTime" from 8:00 to 18:59 UTC, "nightTime" to 6:59 and from 20:00, "otherTime" between.
inline std::string time_type(timestamp t) {
  constexpr int64_t hour_ms = 3'600'000;
  auto hour = ((t % (24 * hour_ms)) + 24 * hour_ms) % (24 * hour_ms) / hour_ms;
  if (hour >= 8 && hour <= 18)
    return "dayTime";
  if (hour <= 6 || hour >= 20)
    return "nightTime";
  return "otherTime";
}

/// The user-defined function of Flink's q14: how many bytes of `text` are `c`.
inline int64_t count_char(const std::string& text, char c) {
  return std::count(text.begin(), text.end(), c);
}

/// Query 14, a calculation with a user-defined function: the bids between 1,000,000 and
/// 50,000,000 euro cents (exclusive), converted, labelled by the hour they were made in, with
/// the c's of their extra counted.
inline stream<labelled_bid> q14(stream<event> events) {
  return calc<bid, labelled_bid>(std::move(events), "q14", [](bid&& b, emitter<labelled_bid>& out) {
    auto price = in_euro_thousandths(b.price);
    if (price > 1'000'000'000 && price < 50'000'000'000) {
      auto c_counts = count_char(b.extra, 'c');
      out(labelled_bid{b.auction, b.bidder, price, time_type(b.date_time), b.date_time,
                       std::move(b.extra), c_counts});
    }
  });
}

inline std::string to_csv(const labelled_bid& b) {
  return csv(b.auction, b.bidder, decimal_3(b.price_thousandths), b.bid_time_type,
             format_date_time(b.date_time), b.extra, b.c_counts);
}

} // namespace sluice::nexmark::queries
