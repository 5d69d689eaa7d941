#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>

namespace sluice {

/// How keyed aggregations emit results (as Flink's runtime execution mode).
enum class execution_mode {
  automatic, ///< batch when every source is bounded, else streaming
  streaming, ///< every input record emits the updated aggregate
  batch,     ///< keyed aggregations emit one final result per key at end of stream
};

/// Settings of a runtime; every field has a default that suits a laptop.
struct runtime_config {
  /// Records per batch: a batch is cut when it holds this many records.
  size_t batch_size = 1024;
  /// Credit granted per input channel, in records: the most records queued at one input.
  size_t input_buffer = 4096;
  /// How long a partly filled batch may wait for more records before it is sent.
  std::chrono::microseconds flush_delay{1000};
  /// Number of key groups, the unit of keyed state placement; fixed for the life of the state.
  uint32_t max_parallelism = 128;
  /// Parallelism of operators that do not set their own.
  uint32_t default_parallelism = 1;
  /// Worker threads of the actor system (0: one per core).
  size_t worker_threads = 0;
  execution_mode mode = execution_mode::automatic;
};

} // namespace sluice
