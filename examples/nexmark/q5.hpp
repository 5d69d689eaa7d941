#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <span>
#include <string>

#include "sluice/keyed_stream.hpp"
#include "sluice/operators/count.hpp"
#include "sluice/windowed_stream.hpp"
#include "sluice/windows/sliding_window.hpp"
#include "sluice/windows/tumbling_window.hpp"

#include "nexmark/views.hpp"

namespace sluice::nexmark::queries {

/// An auction with the most bids of a window, and how many.
struct hot_item {
  int64_t auction = 0;
  int64_t num = 0;
  time_window window;

  friend bool operator==(const hot_item&, const hot_item&) = default;
  friend auto operator<=>(const hot_item&, const hot_item&) = default;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, hot_item& x) {
  return f(x.auction, x.num, x.window);
}

/// Query 5, hot items: the auctions with the most bids in the last 10 s, every 2 s (all of them
/// when several tie). The bids are counted per auction in sliding windows; the counts of a
/// window, stamped with its last moment, all fall into one 2-s tumbling window of a second stage
/// keyed by the window's end, which picks the highest.
inline stream<hot_item> q5(stream<event> events) {
  using namespace std::chrono_literals;
  using auction_count = window_result<int64_t, int64_t>;
  auto counts = bids(std::move(events))
                  .key_by(&bid::auction)
                  .window(sliding_window{10s, 2s})
                  .aggregate(count_function<bid>{});
  counts.name("q5/count");
  auto hottest =
    counts.key_by([](const auction_count& c) { return c.window.end; })
      .window(tumbling_window{2s})
      .process<hot_item>([](const timestamp&, const time_window&,
                            std::span<const auction_count> window_counts, emitter<hot_item>& out) {
        int64_t most = 0;
        for (const auto& c : window_counts)
          most = std::max(most, c.value);
        for (const auto& c : window_counts)
          if (c.value == most)
            out(hot_item{c.key, c.value, c.window});
      });
  hottest.name("q5");
  return hottest;
}

/// "auction,num" as Flink's q5 sink, then the window's start and end.
inline std::string to_csv(const hot_item& r) {
  return csv(r.auction, r.num, format_date_time(r.window.start), format_date_time(r.window.end));
}

} // namespace sluice::nexmark::queries
