#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "sluice/keyed_stream.hpp"
#include "sluice/operators/count.hpp"
#include "sluice/windowed_stream.hpp"
#include "sluice/windows/session_window.hpp"

#include "nexmark/views.hpp"

namespace sluice::nexmark::queries {

/// How many bids a bidder made in one window: a session (q11) or a processing-time window (q12).
struct bidder_count {
  int64_t bidder = 0;
  int64_t bid_count = 0;
  timestamp start = 0;
  timestamp end = 0;

  friend bool operator==(const bidder_count&, const bidder_count&) = default;
  friend auto operator<=>(const bidder_count&, const bidder_count&) = default;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, bidder_count& x) {
  return f(x.bidder, x.bid_count, x.start, x.end);
}

/// The bids of each bidder counted in windows of `assigner`, by a stage named `name`.
template <class Assigner>
stream<bidder_count> bids_per_bidder(stream<event> events, Assigner assigner, std::string name) {
  auto counts = bids(std::move(events))
                  .key_by(&bid::bidder)
                  .window(assigner)
                  .template aggregate<bidder_count>(
                    count_function<bid>{}, [](const int64_t& bidder, const time_window& w,
                                              int64_t count, emitter<bidder_count>& out) {
                      out(bidder_count{bidder, count, w.start, w.end});
                    });
  counts.name(std::move(name));
  return counts;
}

/// Query 11, user sessions: how many bids each bidder made in each of their sessions, a session
/// ending after 10 s without a bid (it ends 10 s after its last bid, as Flink's SESSION_END).
inline stream<bidder_count> q11(stream<event> events) {
  using namespace std::chrono_literals;
  return bids_per_bidder(std::move(events), session_window{10s}, "q11");
}

inline std::string to_csv(const bidder_count& c) {
  return csv(c.bidder, c.bid_count, format_date_time(c.start), format_date_time(c.end));
}

} // namespace sluice::nexmark::queries
