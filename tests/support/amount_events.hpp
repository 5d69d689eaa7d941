#pragma once

// Keyed amounts with event times, and their sum as an aggregate: the records of the window and
// join tests that run one job in one process and over several nodes.

#include <cstdint>
#include <string>
#include <utility>

#include "sluice/all.hpp"

#include "support/exact_counts.hpp"

namespace sluice::test {

/// (key, amount).
using amount_event = std::pair<std::string, int64_t>;

/// How far event time runs behind its largest value.
constexpr timestamp amount_disorder = 40;

/// The i-th event: one of the 97 keys, an amount of 0..12.
inline amount_event amount_event_of(uint64_t i) {
  return {key_of(i), static_cast<int64_t>(i % 13)};
}

/// The i-th event's time: out of order within amount_disorder, so no event is late.
inline timestamp amount_time_of(uint64_t i) {
  return static_cast<timestamp>(i) - static_cast<timestamp>((i * 7919) % amount_disorder);
}

/// The sum of the amounts, as an aggregate function.
struct sum_amounts {
  using input_type = amount_event;
  using accumulator_type = int64_t;
  using result_type = int64_t;
  int64_t create() const { return 0; }
  void add(int64_t& acc, const amount_event& e) const { acc += e.second; }
  int64_t result(int64_t acc) const { return acc; }
  void merge(int64_t& acc, int64_t&& other) const { acc += other; }
};

} // namespace sluice::test
