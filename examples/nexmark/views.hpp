#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>

#include "sluice/nexmark/json.hpp"
#include "sluice/nexmark/model.hpp"
#include "sluice/pipeline.hpp"

// What every Nexmark query starts from: the persons, auctions and bids of the event stream
// (Flink's Nexmark views `person`, `auction` and `bid`), each with its event's time, and the
// formatting of results as the comma-separated lines the example writes.

namespace sluice::nexmark::queries {

/// `fn(T&&, emitter<Out>&)` over the events of kind T (person, auction or bid) among `events`,
/// as one stage named `name`: a query's selection and projection over one view in the stage that
/// picks the view, as Flink's planner merges the view's filter and the query's into one Calc.
template <class T, class Out, class F>
stream<Out> calc(stream<event> events, std::string name, F fn) {
  static_assert(std::is_invocable_v<const F&, T&&, emitter<Out>&>,
                "calc<T, Out> expects fn(T&&, emitter<Out>&)");
  auto computed = events.flat_map<Out>([fn = std::move(fn)](event&& e, emitter<Out>& out) {
    if (auto* x = std::get_if<T>(&e))
      fn(std::move(*x), out);
  });
  computed.name(std::move(name));
  return computed;
}

/// The events of kind T (person, auction or bid) among `events`, as a stage named `name`.
template <class T>
stream<T> only(stream<event> events, std::string name) {
  return calc<T, T>(std::move(events), std::move(name),
                    [](T&& x, emitter<T>& out) { out(std::move(x)); });
}

/// The persons and auctions among `events`, without the bids (46 of every 50 events): in front
/// of the views of a query that reads persons and auctions, so that the bids do not go to both.
inline stream<event> without_bids(stream<event> events) {
  auto kept = events.filter([](const event& e) { return !std::holds_alternative<bid>(e); });
  kept.name("without_bids");
  return kept;
}

inline stream<person> persons(stream<event> events) {
  return only<person>(std::move(events), "persons");
}

inline stream<auction> auctions(stream<event> events) {
  return only<auction>(std::move(events), "auctions");
}

inline stream<bid> bids(stream<event> events) {
  return only<bid>(std::move(events), "bids");
}

/// A price in thousandths of a cent ("1234.567"), as Flink prints DECIMAL(23, 3).
inline std::string decimal_3(int64_t thousandths) {
  auto text = std::to_string(thousandths / 1000) + ".";
  auto fraction = std::to_string(1000 + thousandths % 1000);
  return text + fraction.substr(1);
}

/// The fields, strings as they are and numbers in decimal, joined by commas.
template <class... Fields>
std::string csv(const Fields&... fields) {
  std::string line;
  bool first = true;
  auto add = [&](const auto& field) {
    if (!first)
      line += ',';
    first = false;
    if constexpr (std::is_convertible_v<decltype(field), std::string_view>)
      line += field;
    else
      line += std::to_string(field);
  };
  (add(fields), ...);
  return line;
}

/// A bid as Flink's q0 sink holds it: "auction,bidder,price,dateTime,extra".
inline std::string to_csv(const bid& b) {
  return csv(b.auction, b.bidder, b.price, format_date_time(b.date_time), b.extra);
}

} // namespace sluice::nexmark::queries
