#pragma once

// A pass-through stage that caps how fast a test job runs, so that a job killed at a random
// moment after a checkpoint has made about as much progress in an optimized build as in a
// sanitized one: tests that kill a job N times then size its input to N runs, not to the
// build's speed.

#include <chrono>
#include <cstdint>
#include <thread>

namespace sluice::test {

/// For `peek`: sleeps a millisecond after every `per_ms` records of the instance, which holds
/// the instance to at most `per_ms` thousand records a second; 0 does not hold it back.
struct throttle {
  uint64_t per_ms = 100;
  uint64_t seen = 0;

  template <class T>
  void operator()(const T&) {
    if (per_ms > 0 && ++seen % per_ms == 0)
      std::this_thread::sleep_for(std::chrono::milliseconds{1});
  }
};

} // namespace sluice::test
