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
  /// Records handled (for a source: read, since the job started or restored).
  uint64_t records_in = 0;
  uint64_t records_out = 0;
  /// Records kept of what was sent since the last completed checkpoint (for the recovery of
  /// downstream instances), now and at most.
  uint64_t records_retained = 0;
  uint64_t peak_records_retained = 0;
  /// Records that user code failed on and that went to dead letters (`failure_policy::skip`).
  uint64_t records_skipped = 0;
  /// Records that came after every window they would join was gone (window operators), since
  /// this incarnation started.
  uint64_t records_late = 0;
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
           x.parallelism, x.records_in, x.records_out, x.records_retained, x.peak_records_retained,
           x.records_skipped, x.records_late, x.batches_in, x.batches_out, x.busy_ns,
           x.backpressured_ns, x.uptime_ns, x.queued_records, x.peak_queued_per_channel,
           x.input_credit_limit, x.output_credit, x.output_buffered, x.watermark,
           x.checkpoint_taken, x.checkpoint_completed, x.checkpoint_alignment_ns,
           x.checkpoint_write_ns, x.restarts, x.last_failure);
}

/// One instance's part in a checkpoint.
struct instance_checkpoint_stats {
  std::string operator_name;
  uint32_t instance = 0;
  /// From the first barrier's arrival to the last one's (0 for sources).
  int64_t alignment_ns = 0;
  /// Time to write the instance's state, and the bytes written.
  int64_t write_ns = 0;
  uint64_t bytes = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, instance_checkpoint_stats& x) {
  return f(caf::meta::type_name("sluice.instance_checkpoint_stats"), x.operator_name, x.instance,
           x.alignment_ns, x.write_ns, x.bytes);
}

/// A checkpoint as its coordinator saw it (job::checkpoints).
struct checkpoint_stats {
  uint64_t id = 0;
  /// Completed: every instance took it and the coordinator recorded it. Neither completed nor
  /// in flight: abandoned, because the job ended first.
  bool completed = false;
  bool in_flight = false;
  /// From the trigger to the completion (or to now, while in flight).
  int64_t duration_ns = 0;
  /// The instances that acknowledged it, in the order they did.
  std::vector<instance_checkpoint_stats> instances;

  /// The bytes all instances wrote.
  [[nodiscard]] uint64_t bytes() const {
    uint64_t n = 0;
    for (const auto& i : instances)
      n += i.bytes;
    return n;
  }
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, checkpoint_stats& x) {
  return f(caf::meta::type_name("sluice.checkpoint_stats"), x.id, x.completed, x.in_flight,
           x.duration_ns, x.instances);
}

} // namespace sluice
