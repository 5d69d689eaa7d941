#pragma once

// The results of the Nexmark queries computed straight from the generated events, with plain
// loops and maps: what the tests compare the queries' output with. Each is the lines the nexmark
// example writes (sorted), or for queries whose results change, the final row per key.

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <map>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "sluice/nexmark/generator.hpp"

#include "nexmark/queries.hpp"

namespace sluice::test {

/// The persons, auctions and bids of events 0 to n - 1 of `config`.
struct nexmark_events {
  std::vector<nexmark::person> persons;
  std::vector<nexmark::auction> auctions;
  std::vector<nexmark::bid> bids;

  explicit nexmark_events(const nexmark::generator_config& config) {
    nexmark::generator make{config};
    for (uint64_t n = 0; n < *config.events; ++n) {
      auto e = make(n);
      if (auto* p = std::get_if<nexmark::person>(&e))
        persons.push_back(*p);
      else if (auto* a = std::get_if<nexmark::auction>(&e))
        auctions.push_back(*a);
      else
        bids.push_back(std::get<nexmark::bid>(e));
    }
  }
};

/// Sorted lines.
using lines = std::vector<std::string>;
/// The final row of each key of a table, as a line.
using rows = std::map<std::string, std::string>;

inline lines sorted(lines l) {
  std::sort(l.begin(), l.end());
  return l;
}

namespace nexmark_reference {

using namespace sluice::nexmark;
namespace q = sluice::nexmark::queries;

inline lines q0(const nexmark_events& e) {
  lines out;
  for (const auto& b : e.bids)
    out.push_back(q::csv(b.auction, b.bidder, b.price, format_date_time(b.date_time), b.extra));
  return sorted(out);
}

/// A bid's price in euro cents, 0.908 per dollar cent, as thousandths: "1234.567".
inline std::string euros_of(const bid& b) {
  auto thousandths = b.price * 908;
  return std::to_string(thousandths / 1000) + "."
         + std::to_string(1000 + thousandths % 1000).substr(1);
}

inline lines q1(const nexmark_events& e) {
  lines out;
  for (const auto& b : e.bids)
    out.push_back(q::csv(b.auction, b.bidder, euros_of(b), format_date_time(b.date_time), b.extra));
  return sorted(out);
}

inline lines q2(const nexmark_events& e) {
  lines out;
  for (const auto& b : e.bids)
    if (b.auction % 123 == 0)
      out.push_back(std::to_string(b.auction) + "," + std::to_string(b.price));
  return sorted(out);
}

/// q3: auctions of category 10 by sellers from OR, ID or CA, by auction id.
inline rows q3(const nexmark_events& e) {
  std::map<int64_t, const person*> local;
  for (const auto& p : e.persons)
    if (p.state == "OR" || p.state == "ID" || p.state == "CA")
      local[p.id] = &p;
  rows out;
  for (const auto& a : e.auctions)
    if (auto p = local.find(a.seller); a.category == 10 && p != local.end())
      out[std::to_string(a.id)] = q::csv(p->second->name, p->second->city, p->second->state, a.id);
  return out;
}

/// The highest bid of each auction made while it was open, the earliest of equal prices.
inline std::map<int64_t, std::pair<const auction*, const bid*>> winners(const nexmark_events& e) {
  std::map<int64_t, const auction*> by_id;
  for (const auto& a : e.auctions)
    by_id[a.id] = &a;
  auto order = [](const bid& b) {
    return std::tuple{-b.price, b.date_time, b.bidder, b.channel, b.url, b.extra};
  };
  std::map<int64_t, std::pair<const auction*, const bid*>> best;
  for (const auto& b : e.bids) {
    auto a = by_id.find(b.auction);
    if (a == by_id.end() || b.date_time < a->second->date_time || b.date_time > a->second->expires)
      continue;
    auto [w, fresh] = best.try_emplace(b.auction, a->second, &b);
    if (!fresh && order(b) < order(*w->second.second))
      w->second.second = &b;
  }
  return best;
}

/// q4: the average winning price per category, truncated.
inline rows q4(const nexmark_events& e) {
  std::map<int64_t, std::pair<int64_t, int64_t>> totals; // category -> sum, count
  for (const auto& [id, w] : winners(e)) {
    auto& t = totals[w.first->category];
    t.first += w.second->price;
    ++t.second;
  }
  rows out;
  for (const auto& [category, t] : totals)
    out[std::to_string(category)] = std::to_string(t.first / t.second);
  return out;
}

inline rows q9(const nexmark_events& e) {
  rows out;
  for (const auto& [id, w] : winners(e))
    out[std::to_string(id)] = q::to_csv(q::winning_bid{*w.first, *w.second});
  return out;
}

/// q6: as each auction closes with a winning bid (in the order of expiry, then id), the average
/// price of its seller's last 10 such auctions.
inline lines q6(const nexmark_events& e) {
  std::map<int64_t, std::vector<std::pair<const auction*, const bid*>>> by_seller;
  for (const auto& [id, w] : winners(e))
    by_seller[w.first->seller].push_back(w);
  lines out;
  for (auto& [seller, sales] : by_seller) {
    std::sort(sales.begin(), sales.end(), [](const auto& a, const auto& b) {
      return std::pair{a.first->expires, a.first->id} < std::pair{b.first->expires, b.first->id};
    });
    for (size_t i = 0; i < sales.size(); ++i) {
      auto from = i >= 9 ? i - 9 : 0;
      int64_t sum = 0;
      for (auto j = from; j <= i; ++j)
        sum += sales[j].second->price;
      out.push_back(q::csv(seller, sum / static_cast<int64_t>(i - from + 1), sales[i].first->id,
                           format_date_time(sales[i].first->expires)));
    }
  }
  return sorted(out);
}

/// q5: per 10-s window sliding by 2 s, the auctions with the most bids.
inline lines q5(const nexmark_events& e) {
  std::map<timestamp, std::map<int64_t, int64_t>> counts; // window start -> auction -> bids
  for (const auto& b : e.bids)
    for (auto start = b.date_time - b.date_time % 2000; start > b.date_time - 10'000; start -= 2000)
      ++counts[start][b.auction];
  lines out;
  for (const auto& [start, per_auction] : counts) {
    int64_t most = 0;
    for (const auto& [auction, n] : per_auction)
      most = std::max(most, n);
    for (const auto& [auction, n] : per_auction)
      if (n == most)
        out.push_back(
          q::csv(auction, n, format_date_time(start), format_date_time(start + 10'000)));
  }
  return sorted(out);
}

/// q7: the bids of the highest price of each 10-s window.
inline lines q7(const nexmark_events& e) {
  std::map<timestamp, int64_t> highest;
  auto window = [](const bid& b) { return b.date_time / 10'000; };
  for (const auto& b : e.bids)
    highest[window(b)] = std::max(highest[window(b)], b.price);
  lines out;
  for (const auto& b : e.bids)
    if (b.price == highest[window(b)])
      out.push_back(q::to_csv(b));
  return sorted(out);
}

/// q8: people who registered and opened an auction in the same 10-s window.
inline lines q8(const nexmark_events& e) {
  std::set<std::pair<timestamp, int64_t>> sold; // window start, seller
  for (const auto& a : e.auctions)
    sold.emplace(a.date_time - a.date_time % 10'000, a.seller);
  lines out;
  for (const auto& p : e.persons) {
    auto start = p.date_time - p.date_time % 10'000;
    if (sold.contains({start, p.id}))
      out.push_back(q::csv(p.id, p.name, format_date_time(start)));
  }
  return sorted(out);
}

/// q10: the bids as lines by the directory of their day and minute, "dt=yyyy-MM-dd/hm=HH:mm".
inline std::map<std::string, lines> q10(const nexmark_events& e) {
  std::map<std::string, lines> out;
  for (const auto& b : e.bids) {
    using namespace std::chrono;
    sys_time<milliseconds> t{milliseconds{b.date_time}};
    auto day = floor<days>(t);
    year_month_day date{day};
    hh_mm_ss time{t - day};
    char partition[64];
    std::snprintf(partition, sizeof partition, "dt=%04d-%02u-%02u/hm=%02ld:%02ld",
                  static_cast<int>(date.year()), static_cast<unsigned>(date.month()),
                  static_cast<unsigned>(date.day()), static_cast<long>(time.hours().count()),
                  static_cast<long>(time.minutes().count()));
    out[partition].push_back(
      q::csv(b.auction, b.bidder, b.price, format_date_time(b.date_time), b.extra));
  }
  for (auto& [partition, l] : out)
    std::sort(l.begin(), l.end());
  return out;
}

/// q11: each bidder's sessions, which end when 10 s pass without a bid.
inline lines q11(const nexmark_events& e) {
  std::map<int64_t, std::vector<timestamp>> times;
  for (const auto& b : e.bids)
    times[b.bidder].push_back(b.date_time);
  lines out;
  for (auto& [bidder, t] : times) {
    std::sort(t.begin(), t.end());
    size_t first = 0;
    for (size_t i = 1; i <= t.size(); ++i)
      if (i == t.size() || t[i] > t[i - 1] + 10'000) {
        out.push_back(q::csv(bidder, static_cast<int64_t>(i - first), format_date_time(t[first]),
                             format_date_time(t[i - 1] + 10'000)));
        first = i;
      }
  }
  return sorted(out);
}

/// q13: each bid with the value of its auction modulo 10,000 in `side`, if it has one.
inline lines q13(const nexmark_events& e, const std::map<int64_t, std::string>& side) {
  lines out;
  for (const auto& b : e.bids)
    if (auto row = side.find(b.auction % 10'000); row != side.end())
      out.push_back(
        q::csv(b.auction, b.bidder, b.price, format_date_time(b.date_time), row->second));
  return sorted(out);
}

/// q14: the bids between 10,000 and 500,000 euros, labelled by hour, with their c's counted.
inline lines q14(const nexmark_events& e) {
  lines out;
  for (const auto& b : e.bids) {
    auto euros = b.price * 908;
    if (euros <= 1'000'000'000 || euros >= 50'000'000'000)
      continue;
    using namespace std::chrono;
    sys_time<milliseconds> t{milliseconds{b.date_time}};
    auto hour = duration_cast<hours>(t - floor<days>(t)).count();
    auto type = hour >= 8 && hour <= 18   ? "dayTime"
                : hour <= 6 || hour >= 20 ? "nightTime"
                                          : "otherTime";
    auto cs = static_cast<int64_t>(std::count(b.extra.begin(), b.extra.end(), 'c'));
    out.push_back(
      q::csv(b.auction, b.bidder, euros_of(b), type, format_date_time(b.date_time), b.extra, cs));
  }
  return sorted(out);
}

} // namespace nexmark_reference

} // namespace sluice::test
