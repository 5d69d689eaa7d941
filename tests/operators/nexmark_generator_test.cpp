// The Nexmark generator: the 1:3:46 mix, ids that follow the model, average sizes, event times
// from the rate, the same events for the same seed whatever the order or parallelism.

#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <map>
#include <tuple>
#include <vector>

#include "sluice/all.hpp"
#include "sluice/nexmark/generator.hpp"
#include "sluice/nexmark/json.hpp"
#include "sluice/serde.hpp"

#include "support/test_support.hpp"

using namespace sluice;

namespace {

/// The bytes the model counts for an event (8 per number and time).
size_t counted_bytes(const nexmark::event& e) {
  if (auto* p = std::get_if<nexmark::person>(&e))
    return 8 + p->name.size() + p->email_address.size() + p->credit_card.size() + p->city.size()
           + p->state.size() + p->extra.size();
  if (auto* a = std::get_if<nexmark::auction>(&e))
    return 48 + a->item_name.size() + a->description.size() + a->extra.size();
  return 32 + std::get<nexmark::bid>(e).extra.size();
}

} // namespace

TEST_CASE("the Nexmark generator makes persons, auctions and bids 1:3:46 with consecutive ids") {
  nexmark::generator make{{}};
  std::map<size_t, uint64_t> kinds;
  std::map<size_t, double> bytes;
  std::array<uint64_t, 6> bids_per_price_decade{}; // $1-$10, $10-$100, ... $100k-$1M
  int64_t next_person = 1000, next_auction = 1000;
  for (uint64_t n = 0; n < 50'000; ++n) {
    auto e = make(n);
    ++kinds[e.index()];
    bytes[e.index()] += static_cast<double>(counted_bytes(e));
    if (auto* p = std::get_if<nexmark::person>(&e)) {
      CHECK(p->id == next_person++);
    } else if (auto* a = std::get_if<nexmark::auction>(&e)) {
      CHECK(a->id == next_auction++);
      CHECK(a->seller >= 1000);
      CHECK(a->seller < next_person + 10); // at most the id lead ahead of the newest person
      CHECK(a->category >= 10);
      CHECK(a->category <= 14);
      CHECK(a->reserve > a->initial_bid);
      CHECK(a->expires > a->date_time);
    } else {
      const auto& b = std::get<nexmark::bid>(e);
      CHECK(b.auction >= std::max<int64_t>(1000, next_auction - 1 - 100));
      CHECK(b.auction < next_auction + 10);
      CHECK(b.bidder >= 1000);
      CHECK(b.bidder < next_person + 10);
      CHECK(b.price >= 100);
      CHECK(b.price <= 100'000'000);
      auto decade = static_cast<size_t>(std::log10(static_cast<double>(b.price) / 100));
      ++bids_per_price_decade[std::min<size_t>(decade, 5)];
    }
  }
  CHECK(kinds == std::map<size_t, uint64_t>{{0, 1'000}, {1, 3'000}, {2, 46'000}});
  // Average sizes within 5% of the model's 200, 500 and 100 bytes.
  CHECK(bytes[0] / 1'000 == Approx(200).epsilon(0.05));
  CHECK(bytes[1] / 3'000 == Approx(500).epsilon(0.05));
  CHECK(bytes[2] / 46'000 == Approx(100).epsilon(0.05));
  // Prices log-uniform from $1 to $1M: a sixth of the bids in each decade, within 5%.
  for (auto in_decade : bids_per_price_decade)
    CHECK(static_cast<double>(in_decade) == Approx(46'000.0 / 6).epsilon(0.05));
}

TEST_CASE("Nexmark events happen at the configured rate of event time from the base time") {
  nexmark::generator make{{.event_rate = 1'000, .base_time = 5'000}};
  CHECK(nexmark::date_time_of(make(0)) == 5'000);
  CHECK(nexmark::date_time_of(make(1)) == 5'001);
  CHECK(nexmark::date_time_of(make(2'500)) == 7'500);
  nexmark::generator fast{{.event_rate = 10'000'000, .base_time = 0}};
  CHECK(nexmark::date_time_of(fast(9'999)) == 0);
  CHECK(nexmark::date_time_of(fast(10'000)) == 1);
}

TEST_CASE("a Nexmark event depends on its number and the seed only") {
  nexmark::generator a{{.seed = 7}}, b{{.seed = 7}}, other{{.seed = 8}};
  std::vector<nexmark::event> forward;
  for (uint64_t n = 0; n < 1'000; ++n)
    forward.push_back(a(n));
  size_t differing = 0;
  for (uint64_t n = 1'000; n-- > 0;) {
    CHECK(b(n) == forward[n]);
    differing += other(n) == forward[n] ? 0 : 1;
  }
  CHECK(differing > 900);
}

TEST_CASE("the Nexmark source makes the same events at any parallelism") {
  constexpr uint64_t events = 20'000;
  nexmark::generator make{{}};
  std::vector<nexmark::event> expected;
  for (uint64_t n = 0; n < events; ++n)
    expected.push_back(make(n));
  // Events in one order: by time, then kind, then what tells them apart.
  auto sorted = [](std::vector<nexmark::event> v) {
    auto key = [](const nexmark::event& e) {
      return std::tuple{nexmark::date_time_of(e), e.index(), counted_bytes(e),
                        std::visit([](const auto& x) { return x.extra; }, e)};
    };
    std::sort(v.begin(), v.end(), [&](const auto& x, const auto& y) { return key(x) < key(y); });
    return v;
  };
  expected = sorted(expected);
  for (uint32_t parallelism : {1u, 2u}) {
    INFO("parallelism " << parallelism);
    std::vector<nexmark::event> out;
    pipeline p{"nexmark"};
    p.source(nexmark::source({.events = events})).parallelism(parallelism).sink(collect(out));
    runtime rt{test::small_batches()};
    REQUIRE_FALSE(rt.run(p));
    CHECK(out.size() == events);
    bool identical = sorted(out) == expected; // not printed: thousands of events
    CHECK(identical);
  }
}

TEST_CASE("Nexmark events as JSON lines in Flink's layout read back as the same events") {
  nexmark::generator make{{}};
  json_serde<nexmark::event> serde;
  for (uint64_t n = 0; n < 200; ++n) {
    auto e = make(n);
    CHECK(serde.decode(serde.encode(e)) == e);
  }
  auto line = serde.encode(make(4)); // a bid
  CHECK_THAT(line, Catch::StartsWith("{\"event_type\":2,\"person\":null,\"auction\":null,\"bid\":{")
                     && Catch::Contains("\"dateTime\":\"2015-07-15 00:00:00.000\""));
}

TEST_CASE("a JSON line that is not a Nexmark event is refused naming what is wrong") {
  json_serde<nexmark::event> serde;
  auto refused = [&](const std::string& line) {
    try {
      (void)serde.decode(line);
    } catch (const serde_error& e) {
      return std::string{e.what()};
    }
    FAIL("accepted: " << line);
    return std::string{};
  };
  CHECK_THAT(refused(R"({"event_type":3})"), Catch::Contains("0 (person), 1 (auction) or 2 (bid)"));
  CHECK_THAT(refused(R"({"event_type":2,"bid":null})"), Catch::Contains("needs its \"bid\""));
  CHECK_THAT(refused(R"({"event_type":2,"bid":{"auction":1}})"),
             Catch::Contains("the bid has no field 'bidder'"));
  CHECK_THAT(
    refused(
      R"({"event_type":0,"person":{"id":"x","name":"","emailAddress":"","creditCard":"","city":"","state":"","dateTime":"2015-07-15 00:00:00.000","extra":""}})"),
    Catch::Contains("field 'id' of the person is not an integer"));
  CHECK_THAT(
    refused(
      R"({"event_type":2,"bid":{"auction":1,"bidder":2,"price":3,"channel":"","url":"","dateTime":"2015-13-01 00:00:00.000","extra":""}})"),
    Catch::Contains("field 'dateTime' is not a valid time"));
}
