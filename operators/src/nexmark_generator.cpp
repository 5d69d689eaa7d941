#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sluice/nexmark/generator.hpp"

namespace sluice::nexmark {

namespace {

constexpr int64_t first_person_id = 1000;
constexpr int64_t first_auction_id = 1000;
constexpr int64_t first_category_id = 10;
constexpr int64_t categories = 5;
/// How many ids past the newest a pick may name (people and auctions not created yet).
constexpr int64_t id_lead = 10;
/// Hot sellers, bidders and auctions are the first of each block of this many.
constexpr int64_t hot_block = 100;
constexpr uint32_t channels = 10'000;
/// The letters `extra` is cut from: few enough to stay in a core's cache (each event reads a
/// random slice of them), enough that no two slices look alike.
constexpr size_t reusable_letters = 1 << 15;

constexpr std::array<std::string_view, 11> first_names{
  "Peter", "Paul", "Luke", "John", "Saul", "Vicky", "Kate", "Julie", "Sarah", "Deiter", "Walter"};
constexpr std::array<std::string_view, 9> last_names{
  "Shultz", "Abrams", "Spencer", "White", "Bartels", "Walton", "Smith", "Jones", "Noris"};
constexpr std::array<std::string_view, 6> states{"AZ", "CA", "ID", "OR", "WA", "WY"};
constexpr std::array<std::string_view, 10> cities{
  "Phoenix", "Los Angeles", "San Francisco", "Boise", "Portland",
  "Bend",    "Redmond",     "Seattle",       "Kent",  "Cheyenne"};
constexpr std::array<std::string_view, 4> hot_channels{"Google", "Facebook", "Baidu", "Apple"};

uint64_t mix(uint64_t x) {
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

/// The random draws of one event (or of the tables): splitmix64 from a seed.
class draws {
public:
  explicit draws(uint64_t seed) : state_(mix(seed)) {}

  uint64_t next() {
    state_ += 0x9e3779b97f4a7c15ULL;
    return mix(state_);
  }

  /// Uniform in [0, bound) (for bounds of 2^32 and more, with a bias too small to matter).
  uint64_t below(uint64_t bound) {
    if (bound <= (uint64_t{1} << 32))
      return ((next() >> 32) * bound) >> 32;
    return next() % bound;
  }

  /// Uniform in [0, 1).
  double unit() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

  /// 3 to `max_length - 1` letters, one in 13 `special`, trimmed of spaces at both ends.
  std::string text(uint32_t max_length, char special = ' ') {
    auto length = 3 + below(max_length - 3);
    std::string s(length, ' ');
    for (auto& c : s) {
      // One draw per letter: its high half picks special or not, its low half the letter.
      auto r = next();
      c = ((r >> 32) * 13 >> 32) == 0 ? special
                                      : static_cast<char>('a' + ((r & 0xffff'ffffULL) * 26 >> 32));
    }
    auto first = s.find_first_not_of(' ');
    if (first == std::string::npos)
      return {};
    return s.substr(first, s.find_last_not_of(' ') - first + 1);
  }

  /// A price in cents, log-uniform from $1 to $1M: e^(u ln 10^6) dollars.
  int64_t price() { return std::llround(std::exp(unit() * 13.815510557964274) * 100.0); }

private:
  uint64_t state_;
};

} // namespace

namespace detail {

/// What every event is cut from, made once per generator from its seed: the letters of `extra`,
/// and the name and url of each channel.
struct generator_tables {
  std::string letters;
  std::array<std::string, hot_channels.size()> hot_urls;
  std::vector<std::string> channel_names;
  std::vector<std::string> channel_urls;

  explicit generator_tables(uint64_t seed) {
    draws d{seed ^ 0x6e65786d61726bULL}; // "nexmark"
    letters.resize(reusable_letters);
    for (auto& c : letters)
      c = static_cast<char>('a' + d.below(26));
    for (auto& url : hot_urls)
      url = base_url(d);
    channel_names.reserve(channels);
    channel_urls.reserve(channels);
    for (uint32_t c = 0; c < channels; ++c) {
      channel_names.push_back("channel-" + std::to_string(c));
      auto url = base_url(d);
      if (d.below(10) > 0)
        url += "&channel_id=" + std::to_string(reversed_bits(c));
      channel_urls.push_back(std::move(url));
    }
  }

  static std::string base_url(draws& d) {
    return "https://www.nexmark.com/" + d.text(5, '_') + "/" + d.text(5, '_') + "/" + d.text(5, '_')
           + "/item.htm?query=1";
  }

  static uint32_t reversed_bits(uint32_t x) {
    uint32_t r = 0;
    for (int i = 0; i < 32; ++i, x >>= 1)
      r = (r << 1) | (x & 1);
    return r;
  }

  /// Padding that brings an event of `size` bytes to `average` on average: within 20% of the
  /// difference.
  std::string extra(draws& d, size_t size, size_t average) const {
    if (size > average)
      return {};
    auto missing = static_cast<int64_t>(average - size);
    auto spread = std::llround(static_cast<double>(missing) * 0.2);
    auto length = static_cast<size_t>(
      missing - spread
      + (spread == 0 ? 0 : static_cast<int64_t>(d.below(static_cast<uint64_t>(2 * spread)))));
    return letters.substr(d.below(letters.size() - length), length);
  }
};

} // namespace detail

namespace {

/// The ids events name, from an event's number (Nexmark's formulas with proportions P:A:B).
struct ids {
  uint64_t person;
  uint64_t auction;
  uint64_t total;

  /// The newest person (counting from 0) at event `n`: the one it makes, if it makes one.
  [[nodiscard]] int64_t last_person(uint64_t n) const {
    auto epoch = n / total;
    auto offset = std::min(n % total, person - 1);
    return static_cast<int64_t>(epoch * person + offset);
  }

  /// The newest auction (counting from 0) at event `n`; -1 before the first.
  [[nodiscard]] int64_t last_auction(uint64_t n) const {
    auto epoch = static_cast<int64_t>(n / total);
    auto offset = n % total;
    if (offset < person)
      return (epoch - 1) * static_cast<int64_t>(auction) + static_cast<int64_t>(auction) - 1;
    if (offset >= person + auction)
      return epoch * static_cast<int64_t>(auction) + static_cast<int64_t>(auction) - 1;
    return epoch * static_cast<int64_t>(auction) + static_cast<int64_t>(offset - person);
  }
};

/// The ids of events made with `config`.
ids id_space(const generator_config& config) {
  return {config.person_proportion, config.auction_proportion,
          uint64_t{config.person_proportion} + config.auction_proportion + config.bid_proportion};
}

} // namespace

generator::generator(generator_config config)
  : config_(config),
    delay_us_(1e6 / config.event_rate),
    tables_(std::make_shared<const detail::generator_tables>(config.seed)) {
  if (!(config.event_rate > 0))
    throw std::invalid_argument("nexmark generator: the event rate must be positive");
  if (config.person_proportion == 0 || config.auction_proportion == 0)
    throw std::invalid_argument(
      "nexmark generator: the person and auction proportions must be "
      "positive");
}

timestamp generator::time_of(uint64_t n) const {
  return config_.base_time + static_cast<timestamp>(static_cast<double>(n) * delay_us_) / 1000;
}

event generator::operator()(uint64_t n) const {
  auto offset = n % id_space(config_).total;
  auto state = config_.seed * 0x9e3779b97f4a7c15ULL + n;
  auto time = time_of(n);
  if (offset < config_.person_proportion)
    return make_person(n, time, state);
  if (offset < config_.person_proportion + config_.auction_proportion)
    return make_auction(n, time, state);
  return make_bid(n, time, state);
}

namespace {

/// A person picked among the active ones (and up to `id_lead` not made yet), counting from 0.
int64_t pick_person(const ids& id, uint64_t n, uint32_t active_people, draws& d) {
  auto people = id.last_person(n) + 1;
  auto active = std::min<int64_t>(people, active_people);
  return people - active + static_cast<int64_t>(d.below(static_cast<uint64_t>(active + id_lead)));
}

/// An auction picked among those in flight (and up to `id_lead` not made yet), counting from 0.
int64_t pick_auction(const ids& id, uint64_t n, uint32_t in_flight, draws& d) {
  auto newest = id.last_auction(n);
  auto oldest = std::max<int64_t>(newest - in_flight, 0);
  return oldest
         + static_cast<int64_t>(d.below(static_cast<uint64_t>(newest - oldest + 1 + id_lead)));
}

} // namespace

person generator::make_person(uint64_t n, timestamp time, uint64_t state) const {
  draws d{state};
  auto id = id_space(config_);
  person p;
  p.id = id.last_person(n) + first_person_id;
  p.name = std::string{first_names[d.below(first_names.size())]} + " "
           + std::string{last_names[d.below(last_names.size())]};
  p.email_address = d.text(7) + "@" + d.text(5) + ".com";
  char card[20];
  std::snprintf(card, sizeof card, "%04u %04u %04u %04u", static_cast<unsigned>(d.below(10'000)),
                static_cast<unsigned>(d.below(10'000)), static_cast<unsigned>(d.below(10'000)),
                static_cast<unsigned>(d.below(10'000)));
  p.credit_card = card;
  p.city = cities[d.below(cities.size())];
  p.state = states[d.below(states.size())];
  p.date_time = time;
  auto size = 8 + p.name.size() + p.email_address.size() + p.credit_card.size() + p.city.size()
              + p.state.size();
  p.extra = tables_->extra(d, size, config_.person_bytes);
  return p;
}

auction generator::make_auction(uint64_t n, timestamp time, uint64_t state) const {
  draws d{state};
  auto id = id_space(config_);
  auction a;
  a.id = id.last_auction(n) + first_auction_id;
  a.seller = (d.below(config_.hot_seller_ratio) > 0 ? (id.last_person(n) / hot_block) * hot_block
                                                    : pick_person(id, n, config_.active_people, d))
             + first_person_id;
  a.category = first_category_id + static_cast<int64_t>(d.below(categories));
  a.initial_bid = d.price();
  // An auction lasts about as long as it takes to make `in_flight_auctions` more auctions.
  auto events_for_auctions = uint64_t{config_.in_flight_auctions} * id.total / id.auction;
  auto horizon = time_of(n + events_for_auctions) - time;
  a.expires =
    time + 1
    + static_cast<timestamp>(d.below(static_cast<uint64_t>(std::max<timestamp>(horizon * 2, 1))));
  a.item_name = d.text(20);
  a.description = d.text(100);
  a.reserve = a.initial_bid + d.price();
  a.date_time = time;
  a.extra =
    tables_->extra(d, 48 + a.item_name.size() + a.description.size(), config_.auction_bytes);
  return a;
}

bid generator::make_bid(uint64_t n, timestamp time, uint64_t state) const {
  draws d{state};
  auto id = id_space(config_);
  bid b;
  b.auction =
    (d.below(config_.hot_auction_ratio) > 0 ? (id.last_auction(n) / hot_block) * hot_block
                                            : pick_auction(id, n, config_.in_flight_auctions, d))
    + first_auction_id;
  b.bidder =
    (d.below(config_.hot_bidder_ratio) > 0 ? (id.last_person(n) / hot_block) * hot_block + 1
                                           : pick_person(id, n, config_.active_people, d))
    + first_person_id;
  b.price = d.price();
  if (d.below(2) > 0) {
    auto i = d.below(hot_channels.size());
    b.channel = hot_channels[i];
    b.url = tables_->hot_urls[i];
  } else {
    auto c = d.below(channels);
    b.channel = tables_->channel_names[c];
    b.url = tables_->channel_urls[c];
  }
  b.date_time = time;
  b.extra = tables_->extra(d, 32, config_.bid_bytes);
  return b;
}

} // namespace sluice::nexmark
