#pragma once

#include <cstdint>
#include <string>
#include <variant>

#include <caf/meta/type_name.hpp>

#include "sluice/record.hpp"

// The records of the Nexmark benchmark (an online auction: people, auctions and bids), with the
// fields of Flink's Nexmark (`person`, `auction` and `bid` views). Times are ms since the epoch.

namespace sluice::nexmark {

/// A person who registered: may sell and bid.
struct person {
  int64_t id = 0;
  std::string name;
  std::string email_address;
  std::string credit_card;
  std::string city;
  std::string state;
  timestamp date_time = 0;
  std::string extra;

  friend bool operator==(const person&, const person&) = default;
};

/// An item put up for auction, open from `date_time` until `expires`.
struct auction {
  int64_t id = 0;
  std::string item_name;
  std::string description;
  int64_t initial_bid = 0;
  int64_t reserve = 0;
  timestamp date_time = 0;
  timestamp expires = 0;
  int64_t seller = 0;
  int64_t category = 0;
  std::string extra;

  friend bool operator==(const auction&, const auction&) = default;
};

/// A bid for an auction; prices are in cents.
struct bid {
  int64_t auction = 0;
  int64_t bidder = 0;
  int64_t price = 0;
  std::string channel;
  std::string url;
  timestamp date_time = 0;
  std::string extra;

  friend bool operator==(const bid&, const bid&) = default;
};

/// One Nexmark event: exactly one of the three.
using event = std::variant<person, auction, bid>;

/// The event time of an event: its `date_time`.
inline timestamp date_time_of(const event& e) {
  return std::visit([](const auto& x) { return x.date_time; }, e);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, person& x) {
  return f(caf::meta::type_name("sluice.nexmark.person"), x.id, x.name, x.email_address,
           x.credit_card, x.city, x.state, x.date_time, x.extra);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, auction& x) {
  return f(caf::meta::type_name("sluice.nexmark.auction"), x.id, x.item_name, x.description,
           x.initial_bid, x.reserve, x.date_time, x.expires, x.seller, x.category, x.extra);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, bid& x) {
  return f(caf::meta::type_name("sluice.nexmark.bid"), x.auction, x.bidder, x.price, x.channel,
           x.url, x.date_time, x.extra);
}

} // namespace sluice::nexmark
