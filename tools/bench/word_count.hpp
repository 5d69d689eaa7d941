#pragma once

/// What the word-count workloads share: the result type, its checksum, and the sink that sums it.

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "sluice/all.hpp"

#include "bench.hpp"

namespace bench {

using word_count = std::pair<std::string, int64_t>;

/// Order-independent checksum of a set of (word, count) results: the sum of this per result.
inline uint64_t result_hash(std::string_view word, int64_t count) {
  return mix64(sluice::hash_bytes(word.data(), word.size()) ^ static_cast<uint64_t>(count));
}

/// The final counts: (word, count), or (word, (word, count)) from a reduce, summed into `acc`.
template <class T>
struct result_sink {
  using input_type = T;
  using output_type = sluice::no_output;

  std::shared_ptr<std::atomic<uint64_t>> acc = std::make_shared<std::atomic<uint64_t>>(0);

  void on_batch(std::vector<sluice::record<T>>& records, sluice::context<sluice::no_output>&) {
    uint64_t s = 0;
    for (const auto& r : records) {
      if constexpr (std::is_same_v<T, word_count>)
        s += result_hash(r.value.first, r.value.second);
      else
        s += result_hash(r.value.first, r.value.second.second);
    }
    acc->fetch_add(s, std::memory_order_relaxed);
  }
};

} // namespace bench
