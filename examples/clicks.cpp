// Windows over a day of generated clicks, in event time: clicks per user per minute (tumbling
// windows, with a minute of allowed lateness and the clicks later than that as a stream of their
// own), each user's sessions with a 30-minute gap (session windows), and each page's load time
// averaged over the last 10 minutes, every minute (sliding windows).
//
// Usage: clicks [--parallelism N]
//
// The clicks come up to 20 s out of order, and one in a hundred 3 minutes late; a watermark
// strategy on the stream (30 s of out-of-orderness) gives event time and watermarks. Which of the
// late clicks still make their minute depends, as in any parallel stream processor, on how far the
// watermark got when they arrive: the counts of late clicks vary from run to run.

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <iostream>
#include <map>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "sluice/all.hpp"

using namespace std::chrono_literals;

namespace {

struct click {
  std::string user;
  std::string page;
  int64_t load_ms = 0;
  sluice::timestamp time = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, click& x) {
  return f(x.user, x.page, x.load_ms, x.time);
}

constexpr uint64_t clicks_per_day = 172'800; // one every 500 ms
constexpr int64_t hour = 3'600'000;

/// Click i: at 3 min + i * 500 ms, up to 20 s earlier, one in a hundred 3 minutes earlier; by one
/// of the users active in its hour (user u is active one hour in three), on one of 8 pages.
click make_click(uint64_t i) {
  auto mix = i * 0x9E3779B97F4A7C15ULL;
  mix ^= mix >> 29;
  auto time = 180'000 + static_cast<int64_t>(i) * 500 - static_cast<int64_t>(mix % 20'000);
  if (mix % 100 == 7)
    time -= 180'000;
  auto slot = static_cast<int64_t>(mix >> 8) % 16; // 16 of the 48 users are active each hour
  auto user = slot * 3 + (3 - (time / hour) % 3) % 3;
  auto page = (mix >> 20) % 8;
  return {"user" + std::to_string(user), "/page" + std::to_string(page),
          static_cast<int64_t>(100 + (mix >> 32) % 400 + page * 50), time};
}

struct count_clicks {
  using input_type = click;
  using accumulator_type = uint64_t;
  using result_type = uint64_t;
  uint64_t create() const { return 0; }
  void add(uint64_t& n, const click&) const { ++n; }
  uint64_t result(uint64_t n) const { return n; }
  void merge(uint64_t& n, uint64_t&& other) const { n += other; }
};

struct average_load {
  using input_type = click;
  using accumulator_type = std::pair<int64_t, int64_t>; // sum, count
  using result_type = double;
  accumulator_type create() const { return {0, 0}; }
  void add(accumulator_type& acc, const click& c) const {
    acc.first += c.load_ms;
    ++acc.second;
  }
  double result(const accumulator_type& acc) const {
    return static_cast<double>(acc.first) / static_cast<double>(acc.second);
  }
};

std::string clock_of(sluice::timestamp t) {
  auto minutes = t / 60'000;
  auto text = std::to_string(minutes / 60) + ":";
  return text + (minutes % 60 < 10 ? "0" : "") + std::to_string(minutes % 60);
}

} // namespace

int main(int argc, char** argv) {
  uint32_t parallelism = 2;
  if (argc == 3 && std::string_view{argv[1]} == "--parallelism") {
    std::string_view value = argv[2];
    auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), parallelism);
    if (ec != std::errc{} || end != value.data() + value.size() || parallelism == 0) {
      std::cerr << "clicks: --parallelism needs a positive number, not '" << value << "'\n";
      return 2;
    }
  } else if (argc != 1) {
    std::cerr << "usage: clicks [--parallelism N]\n";
    return 2;
  }

  std::vector<sluice::window_result<std::string, uint64_t>> minutes;
  std::vector<click> late;
  std::vector<sluice::window_result<std::string, uint64_t>> sessions;
  std::vector<sluice::window_result<std::string, double>> averages;

  sluice::pipeline p{"clicks"};
  auto clicks = p.source(sluice::generate<click>(make_click, {.count = clicks_per_day}))
                  .name("clicks")
                  .assign_watermarks(sluice::bounded_out_of_orderness(30s).with_timestamps(
                    [](const click& c) { return c.time; }))
                  .name("event time");

  auto per_minute = clicks.key_by(&click::user)
                      .window(sluice::tumbling_window{1min})
                      .allowed_lateness(1min)
                      .with_late_records()
                      .aggregate(count_clicks{});
  per_minute.name("clicks per minute");
  per_minute.sink(sluice::collect(minutes));
  per_minute.late_records().sink(sluice::collect(late));

  clicks.key_by(&click::user)
    .window(sluice::session_window{30min})
    .aggregate(count_clicks{})
    .name("sessions")
    .sink(sluice::collect(sessions));

  clicks.key_by(&click::page)
    .window(sluice::sliding_window{10min, 1min})
    .aggregate(average_load{})
    .name("load average")
    .sink(sluice::collect(averages));

  sluice::runtime_config config;
  config.default_parallelism = parallelism;
  sluice::runtime rt{config};
  if (auto error = rt.run(p)) {
    std::cerr << "clicks: " << sluice::describe(error) << "\n";
    return 1;
  }

  // A minute fires again when a click within its lateness comes: its last result stands.
  std::map<std::tuple<std::string, sluice::timestamp>, uint64_t> per_user_minute;
  for (const auto& r : minutes)
    per_user_minute[{r.key, r.window.start}] = r.value;
  auto busiest = std::max_element(per_user_minute.begin(), per_user_minute.end(),
                                  [](const auto& a, const auto& b) { return a.second < b.second; });
  std::cout << "clicks per user and minute: " << per_user_minute.size() << " minutes";
  if (busiest != per_user_minute.end())
    std::cout << ", the busiest " << std::get<0>(busiest->first) << " at "
              << clock_of(std::get<1>(busiest->first)) << " with " << busiest->second << " clicks";
  std::cout << "\n  " << minutes.size() - per_user_minute.size()
            << " updates from clicks within a minute's lateness, " << late.size()
            << " clicks later than that (late_records)\n";

  auto longest =
    std::max_element(sessions.begin(), sessions.end(), [](const auto& a, const auto& b) {
      return a.window.end - a.window.start < b.window.end - b.window.start;
    });
  std::cout << "sessions (30 min gap): " << sessions.size();
  if (longest != sessions.end())
    std::cout << ", the longest " << longest->key << " from " << clock_of(longest->window.start)
              << " to " << clock_of(longest->window.end) << " with " << longest->value << " clicks";
  std::cout << "\n";

  std::sort(averages.begin(), averages.end(), [](const auto& a, const auto& b) {
    return std::tie(a.key, a.window.end) < std::tie(b.key, b.window.end);
  });
  std::cout << "load time of /page0 over the last 10 minutes, hourly:\n";
  for (const auto& r : averages)
    if (r.key == "/page0" && r.window.end % hour == 0)
      std::cout << "  " << clock_of(r.window.end) << "  " << static_cast<int64_t>(r.value)
                << " ms\n";
  return 0;
}
