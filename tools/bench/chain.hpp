#pragma once

/// What the 10-stage chain computes, shared by its Sluice pipeline and its references.

#include <cstdint>

#include "bench.hpp"

namespace bench {

inline constexpr int chain_stages = 10;

/// Stage k of the chain: cheap, but not foldable across stages by the compiler.
struct chain_stage {
  int64_t k = 0;
  int64_t operator()(int64_t x) const { return (x ^ (x >> 7)) + k; }
};

/// Records in the chain workload (the same for every variant, so checksums compare).
uint64_t chain_records(const options& opt);

/// The bare CAF reference: 10 plain actors passing std::vector<int64_t> of 1024 elements.
measurement run_caf_chain(const options& opt);

} // namespace bench
