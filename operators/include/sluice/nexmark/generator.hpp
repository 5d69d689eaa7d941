#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>

#include "sluice/nexmark/model.hpp"
#include "sluice/operators/generator.hpp"

namespace sluice::nexmark {

/// What the generator makes: the published Nexmark model (Beam's and Flink's generators) with
/// their defaults. See docs/nexmark.md.
struct generator_config {
  /// Events in all; unbounded when empty.
  std::optional<uint64_t> events{};
  /// Events per second of event time over all instances (Flink's `first-event.rate`): event n
  /// happens at `base_time + n * 1e6 / event_rate` µs, rounded down to ms.
  double event_rate = 10'000;
  /// The event time of event 0: 2015-07-15T00:00:00Z, as Beam's (Flink takes the wall clock).
  timestamp base_time = 1'436'918'400'000;
  /// Events per second of wall-clock time over all instances; 0: as fast as possible.
  double wall_clock_rate = 0;
  /// The same seed makes the same events.
  uint64_t seed = 0;

  /// The mix: of every `person + auction + bid` events, the first `person` are persons, the next
  /// `auction` auctions, the rest bids (1:3:46).
  uint32_t person_proportion = 1;
  uint32_t auction_proportion = 3;
  uint32_t bid_proportion = 46;
  /// Average sizes in bytes, reached by padding each event's `extra`.
  uint32_t person_bytes = 200;
  uint32_t auction_bytes = 500;
  uint32_t bid_bytes = 100;
  /// One in `hot_*_ratio` picks is uniform, the others go to the hot auction, seller or bidder
  /// of the moment (the first of the current block of 100).
  uint32_t hot_auction_ratio = 2;
  uint32_t hot_seller_ratio = 4;
  uint32_t hot_bidder_ratio = 4;
  /// How many of the newest people bid and sell, and how many of the newest auctions get bids.
  uint32_t active_people = 1000;
  uint32_t in_flight_auctions = 100;
};

namespace detail {
struct generator_tables;
} // namespace detail

/// Makes Nexmark event `n` (n = 0, 1, 2, ...), the same for the same configuration wherever it
/// is made: each event draws from a random sequence seeded by the seed and its number, so any
/// instance can make any event, and a job's events do not depend on its parallelism.
class generator {
public:
  explicit generator(generator_config config);

  /// Event number `n`.
  [[nodiscard]] event operator()(uint64_t n) const;

  /// The event time of event number `n`.
  [[nodiscard]] timestamp time_of(uint64_t n) const;

  [[nodiscard]] const generator_config& config() const noexcept { return config_; }

private:
  [[nodiscard]] person make_person(uint64_t n, timestamp time, uint64_t state) const;
  [[nodiscard]] auction make_auction(uint64_t n, timestamp time, uint64_t state) const;
  [[nodiscard]] bid make_bid(uint64_t n, timestamp time, uint64_t state) const;

  generator_config config_;
  double delay_us_;
  std::shared_ptr<const detail::generator_tables> tables_;
};

/// How far behind the newest event time the watermark of the Nexmark source trails (Flink's
/// Nexmark: `dateTime - INTERVAL '4' SECOND`).
inline constexpr std::chrono::milliseconds watermark_delay{4000};

/// The Nexmark events as a source: instance i of n makes the events i, i + n, ... in order,
/// stamped with their `date_time`, its watermark 4 s behind the newest (see sluice::generate).
inline auto source(const generator_config& config) {
  return generate<event>(
    generator{config},
    {.count = config.events, .rate = config.wall_clock_rate, .out_of_orderness = watermark_delay},
    [](uint64_t, const event& e) { return date_time_of(e); });
}

} // namespace sluice::nexmark
