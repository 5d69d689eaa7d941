#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <caf/meta/type_name.hpp>

#include "sluice/record.hpp"

namespace sluice {

/// The live counters of one operator instance, as its host reports them on `inspect_atom`.
///
/// Times are cumulative nanoseconds since the instance started; a console derives per-second
/// figures from two samples. `backpressured_ns` counts time with input waiting while the
/// instance could not emit for lack of output credit.
struct instance_stats {
  std::string pipeline;
  std::string operator_name;
  uint32_t instance = 0;
  uint32_t parallelism = 1;
  uint64_t records_in = 0;
  uint64_t records_out = 0;
  uint64_t batches_in = 0;
  uint64_t batches_out = 0;
  int64_t busy_ns = 0;
  int64_t backpressured_ns = 0;
  int64_t uptime_ns = 0;
  /// Records queued at this instance's inputs now, and the most ever queued on one channel.
  uint64_t queued_records = 0;
  uint64_t peak_queued_per_channel = 0;
  /// Credit granted per input channel (the bound on records queued there).
  int64_t input_credit_limit = 0;
  /// Credit available on each output channel.
  std::vector<int64_t> output_credit;
  /// Records buffered for each output channel, waiting for credit or a full batch.
  std::vector<uint64_t> output_buffered;
  timestamp watermark = min_timestamp;
  /// The last checkpoint this instance took, the last it was told completed, and what taking
  /// the last one cost: alignment (first barrier to last) and writing its state.
  uint64_t checkpoint_taken = 0;
  uint64_t checkpoint_completed = 0;
  int64_t checkpoint_alignment_ns = 0;
  int64_t checkpoint_write_ns = 0;
  uint64_t restarts = 0;
  std::string last_failure;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, instance_stats& x) {
  return f(caf::meta::type_name("sluice.instance_stats"), x.pipeline, x.operator_name, x.instance,
           x.parallelism, x.records_in, x.records_out, x.batches_in, x.batches_out, x.busy_ns,
           x.backpressured_ns, x.uptime_ns, x.queued_records, x.peak_queued_per_channel,
           x.input_credit_limit, x.output_credit, x.output_buffered, x.watermark,
           x.checkpoint_taken, x.checkpoint_completed, x.checkpoint_alignment_ns,
           x.checkpoint_write_ns, x.restarts, x.last_failure);
}

} // namespace sluice
