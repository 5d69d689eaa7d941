#pragma once

#include <cstdint>
#include <string>

#include <caf/atom.hpp>
#include <caf/meta/type_name.hpp>

#include "sluice/record.hpp"

namespace sluice {

/// Downstream → upstream: the receiver may take `records` more records on output `output`.
/// `incarnation` is the receiver's: credit from an incarnation that was since replaced is void.
struct credit_msg {
  uint32_t output = 0;
  int64_t records = 0;
  uint32_t incarnation = 0;
};

// Every message on a channel carries its sequence number (`seq`: the elements sent on the
// channel before it, where a record and a marker count one each) and the sender's incarnation
// (how often its instance restarted). A receiver drops what it already has; see batch.

/// Event time on a channel has advanced to `time`: no record older than it follows.
struct watermark_msg {
  channel_index channel = 0;
  timestamp time = min_timestamp;
  uint64_t seq = 0;
  uint32_t incarnation = 0;
};

/// The channel declares itself idle (excluded from the watermark minimum) or active again.
struct idle_msg {
  channel_index channel = 0;
  bool idle = true;
  uint64_t seq = 0;
  uint32_t incarnation = 0;
};

/// The channel carries no more records.
struct end_of_stream_msg {
  channel_index channel = 0;
  uint64_t seq = 0;
  uint32_t incarnation = 0;
};

/// Everything before this on the channel belongs to checkpoint `checkpoint`, everything after
/// it to later ones.
struct barrier_msg {
  channel_index channel = 0;
  uint64_t checkpoint = 0;
  uint64_t seq = 0;
  uint32_t incarnation = 0;
};

/// The sender will pass on no barrier of a checkpoint below `below` that it has not passed on
/// already: it started aligning checkpoint `below` (as Flink's CancelCheckpointMarker). A
/// receiver aligning one of those abandons it, and lets go of the inputs it held for it:
/// their barrier will not come on this channel.
struct cancel_msg {
  channel_index channel = 0;
  uint64_t below = 0;
  uint64_t seq = 0;
  uint32_t incarnation = 0;
};

/// Coordinator → source instance: take checkpoint `checkpoint` now.
struct trigger_checkpoint_msg {
  uint64_t checkpoint = 0;
};

/// Instance → coordinator: the instance took checkpoint `checkpoint`.
struct checkpoint_ack_msg {
  uint64_t checkpoint = 0;
  /// The instance's number in the job (the coordinator counts acknowledgements by it).
  uint32_t instance = 0;
  /// From the first barrier's arrival to the last one's (0 for sources).
  int64_t alignment_ns = 0;
  /// Time to write the instance's state, and the bytes written.
  int64_t write_ns = 0;
  uint64_t bytes = 0;
};

/// Source instance → coordinator: the source has nothing more to read. With checkpoints, it
/// ends its stream only when told to (`finish_atom`), after a final checkpoint.
struct source_finished_msg {
  uint32_t instance = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, source_finished_msg& x) {
  return f(caf::meta::type_name("sluice.source_finished"), x.instance);
}

/// Instance → coordinator: the instance retains more than `runtime_config::retention_limit`
/// records; a checkpoint, at once, would let it free them.
struct retention_full_msg {
  uint32_t instance = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, retention_full_msg& x) {
  return f(caf::meta::type_name("sluice.retention_full"), x.instance);
}

/// Coordinator → every instance: every instance took checkpoint `checkpoint`.
struct checkpoint_done_msg {
  uint64_t checkpoint = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, barrier_msg& x) {
  return f(caf::meta::type_name("sluice.barrier"), x.channel, x.checkpoint, x.seq, x.incarnation);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, cancel_msg& x) {
  return f(caf::meta::type_name("sluice.cancel"), x.channel, x.below, x.seq, x.incarnation);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, trigger_checkpoint_msg& x) {
  return f(caf::meta::type_name("sluice.trigger_checkpoint"), x.checkpoint);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, checkpoint_ack_msg& x) {
  return f(caf::meta::type_name("sluice.checkpoint_ack"), x.checkpoint, x.instance, x.alignment_ns,
           x.write_ns, x.bytes);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, checkpoint_done_msg& x) {
  return f(caf::meta::type_name("sluice.checkpoint_done"), x.checkpoint);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, credit_msg& x) {
  return f(caf::meta::type_name("sluice.credit"), x.output, x.records, x.incarnation);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, watermark_msg& x) {
  return f(caf::meta::type_name("sluice.watermark"), x.channel, x.time, x.seq, x.incarnation);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, idle_msg& x) {
  return f(caf::meta::type_name("sluice.idle"), x.channel, x.idle, x.seq, x.incarnation);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, end_of_stream_msg& x) {
  return f(caf::meta::type_name("sluice.eos"), x.channel, x.seq, x.incarnation);
}

/// Fault injection, for tests and the console: the instance fails as its user code would by
/// throwing on the `throw_at`-th record it handles from now on (0: never), and sleeps `delay_us`
/// microseconds per batch (0: none).
struct inject_fault_msg {
  uint64_t throw_at = 0;
  int64_t delay_us = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, inject_fault_msg& x) {
  return f(caf::meta::type_name("sluice.inject_fault"), x.throw_at, x.delay_us);
}

using start_atom = caf::atom_constant<caf::atom("start")>;
using flush_atom = caf::atom_constant<caf::atom("flush")>;
using produce_atom = caf::atom_constant<caf::atom("produce")>;
using inspect_atom = caf::atom_constant<caf::atom("inspect")>;
using tick_atom = caf::atom_constant<caf::atom("tick")>;
using clock_atom = caf::atom_constant<caf::atom("clock")>;
using finish_atom = caf::atom_constant<caf::atom("finish")>;
using checkpoints_atom = caf::atom_constant<caf::atom("ckpts")>;
using checkpoint_now_atom = caf::atom_constant<caf::atom("ckptnow")>;

} // namespace sluice
