#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "sluice/all.hpp"

namespace bench {

/// A sink that adds up the uint64_t values it receives, over all its instances (copies share
/// `acc`): the checksum of workloads whose operators emit one sum each.
struct sum_sink {
  using input_type = uint64_t;
  using output_type = sluice::no_output;

  std::shared_ptr<std::atomic<uint64_t>> acc = std::make_shared<std::atomic<uint64_t>>(0);

  void on_batch(std::vector<sluice::record<uint64_t>>& records,
                sluice::context<sluice::no_output>&) {
    for (const auto& r : records)
      acc->fetch_add(r.value, std::memory_order_relaxed);
  }
};

} // namespace bench
