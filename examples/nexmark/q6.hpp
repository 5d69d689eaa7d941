#pragma once

#include <algorithm>
#include <cstdint>
#include <numeric>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "sluice/operators/keyed_context.hpp"

#include "nexmark/winning_bids.hpp"

namespace sluice::nexmark::queries {

/// A seller's average selling price over their last closed auctions, as one more closes.
struct seller_average {
  int64_t seller = 0;
  int64_t avg_price = 0;
  int64_t auction = 0;  // the one that closed
  timestamp closed = 0; // its expiry

  friend bool operator==(const seller_average&, const seller_average&) = default;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, seller_average& x) {
  return f(x.seller, x.avg_price, x.auction, x.closed);
}

namespace detail {

/// Per seller: the auctions that closed with a winning bid, taken in the order they closed
/// (their expiry, then their id) once the watermark passes that moment, whatever order they
/// came in from the instances that closed them; the prices of the last 10 of them.
class average_of_last_sales {
public:
  static constexpr size_t sales = 10;

  using context_type = keyed_context<int64_t, seller_average>;

  void process(const winning_bid& w, context_type& ctx) {
    closing(ctx).add(w);
    ctx.register_event_time_timer(w.auction.expires);
  }

  void on_timer(timestamp time, context_type& ctx) {
    auto& closing = this->closing(ctx);
    std::vector<winning_bid> now;
    for (auto& w : closing.take())
      if (w.auction.expires <= time)
        now.push_back(std::move(w));
      else
        closing.add(std::move(w));
    std::sort(now.begin(), now.end(), [](const winning_bid& a, const winning_bid& b) {
      return std::tuple{a.auction.expires, a.auction.id}
             < std::tuple{b.auction.expires, b.auction.id};
    });
    auto last = ctx.list<int64_t>("last_prices");
    auto prices = last.get();
    for (const auto& w : now) {
      prices.push_back(w.bid.price);
      if (prices.size() > sales)
        prices.erase(prices.begin());
      auto average = std::accumulate(prices.begin(), prices.end(), int64_t{0})
                     / static_cast<int64_t>(prices.size());
      ctx.emit({ctx.key(), average, w.auction.id, w.auction.expires});
    }
    last.update(prices);
  }

private:
  /// The seller's closed auctions waiting for the watermark (a handle taken once per instance).
  list_state<int64_t, winning_bid>& closing(context_type& ctx) {
    if (!closing_)
      closing_.emplace(ctx.list<winning_bid>("closing"));
    return *closing_;
  }

  std::optional<list_state<int64_t, winning_bid>> closing_;
};

} // namespace detail

/// Query 6, average selling price by seller: as each auction closes with a winning bid, the
/// average of the winning prices of its seller's last 10 closed auctions, this one included
/// (truncated to an integer). Flink's q6 cannot run in Flink (its OVER window cannot take the
/// retractions of the top-bid query it reads); its SQL would average 11 rows (10 preceding and
/// the current one) ordered by the bid's time. Sluice follows the query's stated intent, as
/// Beam's q6: the last 10 auctions in the order they closed. Unlike Beam's it does not require
/// the price to reach the reserve (neither do Flink's q4 and q9, whose winning bids it shares).
inline stream<seller_average> q6(stream<event> events) {
  auto averages = closed_auctions(std::move(events))
                    .key_by([](const winning_bid& w) { return w.auction.seller; })
                    .process<seller_average>(detail::average_of_last_sales{});
  averages.name("q6");
  return averages;
}

/// "seller,avg_price" as Flink's q6 sink, then the auction that closed and when.
inline std::string to_csv(const seller_average& a) {
  return csv(a.seller, a.avg_price, a.auction, format_date_time(a.closed));
}

} // namespace sluice::nexmark::queries
