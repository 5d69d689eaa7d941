#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "sluice/context.hpp"
#include "sluice/interfaces.hpp"
#include "sluice/record.hpp"

namespace sluice::nexmark::queries {

/// A sink that drops its records (Flink's blackhole connector, where Flink's Nexmark sends
/// every query's results), counting them over all its instances: copies share the count.
template <class T>
struct blackhole {
  using input_type = T;
  using output_type = no_output;

  std::shared_ptr<std::atomic<uint64_t>> count = std::make_shared<std::atomic<uint64_t>>(0);

  void on_batch(std::vector<record<T>>& records, context<no_output>&) {
    count->fetch_add(records.size(), std::memory_order_relaxed);
  }
};

} // namespace sluice::nexmark::queries
