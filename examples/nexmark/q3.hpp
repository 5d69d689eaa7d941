#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include "sluice/keyed_stream.hpp"
#include "sluice/table.hpp"

#include "nexmark/views.hpp"

namespace sluice::nexmark::queries {

/// A seller in Oregon, Idaho or California and an auction of theirs in category 10.
struct local_item {
  std::string name;
  std::string city;
  std::string state;
  int64_t id = 0; // the auction's

  friend bool operator==(const local_item&, const local_item&) = default;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, local_item& x) {
  return f(x.name, x.city, x.state, x.id);
}

/// What q3 keeps of a person.
struct seller {
  std::string name;
  std::string city;
  std::string state;

  friend bool operator==(const seller&, const seller&) = default;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, seller& x) {
  return f(x.name, x.city, x.state);
}

/// Query 3, local item suggestion: who sells in OR, ID or CA in category 10, and which auctions
/// (an incremental join). As Flink's regular join it keeps every auction of category 10 and
/// every person of those states, so whichever of an auction and its seller comes second makes
/// the row: here a foreign-key join of the table of those auctions (by id) with the table of
/// those people (by id), on the auction's seller. A table of rows by auction id; auctions and
/// people never change, so its changelog only inserts.
inline table<int64_t, local_item> q3(stream<event> all_events) {
  auto events = without_bids(std::move(all_events));
  auto sold = auctions(events).filter([](const auction& a) { return a.category == 10; });
  sold.name("q3/category");
  auto sellers =
    persons(events)
      .filter([](const person& p) { return p.state == "OR" || p.state == "ID" || p.state == "CA"; })
      .map([](const person& p) {
        return std::pair{p.id, seller{p.name, p.city, p.state}};
      });
  sellers.name("q3/state");
  auto by_seller =
    sellers.key_by(&std::pair<int64_t, seller>::first)
      .to_table([](const std::pair<int64_t, seller>& p) { return std::optional<seller>{p.second}; })
      .name("q3/sellers");
  using sale = std::pair<int64_t, int64_t>; // auction id, seller
  auto by_id = sold.key_by(&auction::id)
                 .to_table([](const auction& a) {
                   return std::optional<sale>{{a.id, a.seller}};
                 })
                 .name("q3/auctions");
  return by_id.join(
    by_seller, [](const sale& s) { return s.second; },
    [](const sale& s, const seller& p) {
      return local_item{p.name, p.city, p.state, s.first};
    });
}

inline std::string to_csv(const local_item& r) {
  return csv(r.name, r.city, r.state, r.id);
}

} // namespace sluice::nexmark::queries
