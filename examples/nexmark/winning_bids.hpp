#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <tuple>
#include <utility>

#include "sluice/keyed_stream.hpp"
#include "sluice/operators/keyed_context.hpp"
#include "sluice/table.hpp"

#include "nexmark/views.hpp"

// The core q4 and q9 share: for each auction its highest bid among those made while it was open
// (Flink's regular join of auction and bid on `A.id = B.auction AND B.dateTime BETWEEN
// A.dateTime AND A.expires`, then the top bid per auction), updated as higher bids come.

namespace sluice::nexmark::queries {

/// An auction and its highest bid so far.
struct winning_bid {
  nexmark::auction auction;
  nexmark::bid bid;

  friend bool operator==(const winning_bid&, const winning_bid&) = default;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, winning_bid& x) {
  return f(x.auction, x.bid);
}

/// Whether bid `b` was made while auction `a` was open, both ends included.
inline bool while_open(const auction& a, const bid& b) {
  return b.auction == a.id && b.date_time >= a.date_time && b.date_time <= a.expires;
}

/// Whether `b` beats `best`: a higher price, or the same price earlier (Flink's q9 order). Bids
/// equal in both are ordered by their other fields, so that which wins does not depend on
/// which came first.
inline bool beats(const bid& b, const bid& best) {
  return std::tuple{-b.price, b.date_time, b.bidder, b.channel, b.url, b.extra}
         < std::tuple{-best.price, best.date_time, best.bidder, best.channel, best.url, best.extra};
}

namespace detail {

/// When pick_winners emits a winning bid.
enum class winner_emitted {
  on_each_higher_bid, ///< as it comes: an update of the auction's row (q4, q9)
  at_close,           ///< once, when the watermark passes the auction's expiry (q6)
};

/// Per auction id: the auction once it came, its highest bid while open, and the bids that came
/// before their auction; emits the winning bid `When`. The state of an auction goes once the
/// watermark passes its expiry (no bid that can still come was made while it was open); a bid
/// waiting for its auction goes once the watermark passes its time (an auction that can still
/// come opened after it).
template <winner_emitted When>
class pick_winners {
public:
  using context_type = keyed_context<int64_t, winning_bid>;

  void process_first(const auction& a, context_type& ctx) {
    auto& state = of(ctx);
    auto best = std::optional<bid>{};
    for (auto& b : state.early.take())
      if (while_open(a, b) && (!best || beats(b, *best)))
        best = std::move(b);
    state.auction.update(a);
    ctx.register_event_time_timer(a.expires);
    if (best) {
      state.best.update(*best);
      if constexpr (When == winner_emitted::on_each_higher_bid)
        ctx.emit({a, std::move(*best)});
    }
  }

  void process_second(const bid& b, context_type& ctx) {
    auto& state = of(ctx);
    auto a = state.auction.value();
    if (!a) {
      state.early.add(b);
      ctx.register_event_time_timer(b.date_time);
      return;
    }
    if (!while_open(*a, b))
      return;
    if (auto current = state.best.value(); current && !beats(b, *current))
      return;
    state.best.update(b);
    if constexpr (When == winner_emitted::on_each_higher_bid)
      ctx.emit({std::move(*a), b});
  }

  void on_timer(timestamp time, context_type& ctx) {
    auto& state = of(ctx);
    if (auto known = state.auction.value()) {
      if (known->expires != time)
        return;
      if constexpr (When == winner_emitted::at_close)
        if (auto winner = state.best.value())
          ctx.emit({std::move(*known), std::move(*winner)});
      state.auction.clear();
      state.best.clear();
      return;
    }
    for (auto& b : state.early.take())
      if (b.date_time > time)
        state.early.add(std::move(b));
  }

private:
  /// The keyed state of an auction id, handles taken once per instance.
  struct auction_state {
    value_state<int64_t, nexmark::auction> auction;
    value_state<int64_t, bid> best;
    list_state<int64_t, bid> early;
  };

  auction_state& of(context_type& ctx) {
    if (!state_)
      state_.emplace(auction_state{ctx.value<nexmark::auction>("auction"), ctx.value<bid>("best"),
                                   ctx.list<bid>("early")});
    return *state_;
  }

  std::optional<auction_state> state_;
};

} // namespace detail

/// The winning bids of `events`' auctions, emitted `When`, by a stage named `name`.
template <detail::winner_emitted When>
stream<winning_bid> pick_winners(stream<event> events, std::string name) {
  auto winners = auctions(events)
                   .key_by(&auction::id)
                   .connect(bids(events).key_by(&bid::auction))
                   .template process<winning_bid>(detail::pick_winners<When>{});
  winners.name(std::move(name));
  return winners;
}

/// The highest bid of each auction made while it was open, as a table by auction id that
/// changes as higher bids come. Flink keeps every auction and bid for good; this keeps an
/// auction until the watermark passes its expiry, then drops it (its row in the table stays).
inline table<int64_t, winning_bid> winning_bids(stream<event> events) {
  auto winners =
    pick_winners<detail::winner_emitted::on_each_higher_bid>(std::move(events), "winning_bids");
  return winners.key_by([](const winning_bid& w) { return w.auction.id; })
    .to_table([](const winning_bid& w) { return std::optional<winning_bid>{w}; })
    .name("winning_bids/table");
}

/// The winning bid of each auction that had one, once the auction closed (the watermark passed
/// its expiry), stamped with its expiry.
inline stream<winning_bid> closed_auctions(stream<event> events) {
  return pick_winners<detail::winner_emitted::at_close>(std::move(events), "closed_auctions");
}

} // namespace sluice::nexmark::queries
