#pragma once

#include <caf/meta/type_name.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "sluice/messages.hpp"
#include "sluice/record.hpp"
#include "sluice/stats.hpp"

namespace sluice {

/// Marks a host without input (a source).
struct no_input {};

/// Marks a host without output (a sink).
struct no_output {};

template <class T>
struct attach_upstream_msg;

template <class T>
struct attach_downstream_msg;

/// What an upstream instance sends to a downstream instance of element type T.
template <class T>
using input_actor = caf::typed_actor<caf::reacts_to<batch<T>>, caf::reacts_to<watermark_msg>,
                                     caf::reacts_to<idle_msg>, caf::reacts_to<end_of_stream_msg>,
                                     caf::reacts_to<barrier_msg>, caf::reacts_to<cancel_msg>,
                                     caf::reacts_to<attach_upstream_msg<T>>>;

/// What a downstream instance of element type T sends back to an upstream instance.
template <class T>
using output_actor =
  caf::typed_actor<caf::reacts_to<credit_msg>, caf::reacts_to<attach_downstream_msg<T>>>;

/// A downstream instance tells its upstream where its input channel resumes: when it restarted,
/// or when its upstream restarted and said hello (attach_upstream_msg). The upstream sends to
/// `target` from then on, from element `resume_seq` (replayed from what it retained, or skipped
/// while it regenerates what the receiver already has), within `credit` records; `incarnation`
/// is the receiver's.
template <class T>
struct attach_downstream_msg {
  uint32_t output = 0;
  input_actor<T> target;
  uint32_t incarnation = 0;
  uint64_t resume_seq = 0;
  int64_t credit = 0;
};

/// A restarted upstream instance says hello on input channel `channel` of a downstream
/// instance; the downstream answers with an attach_downstream_msg.
template <class T>
struct attach_upstream_msg {
  channel_index channel = 0;
  output_actor<T> upstream;
  uint32_t upstream_output = 0;
  uint32_t incarnation = 0;
};

/// What the runtime (and later the console) sends to every instance.
using control_actor =
  caf::typed_actor<caf::reacts_to<start_atom>, caf::reacts_to<trigger_checkpoint_msg>,
                   caf::reacts_to<checkpoint_done_msg>, caf::reacts_to<finish_atom>,
                   caf::reacts_to<inject_fault_msg>,
                   caf::replies_to<inspect_atom>::with<instance_stats>>;

/// Supervisor → coordinator: instance `instance` (its number in the job) failed and will be
/// restarted; the coordinator abandons the checkpoint in flight, triggers none until the
/// instance is replaced, and answers where the new incarnation restores to.
struct instance_failed_msg {
  uint32_t instance = 0;
};

/// Coordinator → supervisor: the last completed checkpoint, and the last one triggered (those
/// in between were abandoned).
struct restore_point_msg {
  uint64_t completed = 0;
  uint64_t abandoned_through = 0;
};

/// Supervisor → coordinator (and in a cluster the node, which tells the others): the new
/// incarnation `incarnation` of instance `instance`.
struct instance_replaced_msg {
  uint32_t instance = 0;
  control_actor handle;
  uint32_t incarnation = 0;
};

/// The checkpoint coordinator of a job: instances acknowledge checkpoints, report finished
/// sources and ask for a checkpoint when their retention is full; supervisors report failed and
/// replaced instances; the job (and the console) asks for statistics and checkpoints on request.
using coordinator_actor =
  caf::typed_actor<caf::reacts_to<checkpoint_ack_msg>, caf::reacts_to<source_finished_msg>,
                   caf::reacts_to<retention_full_msg>,
                   caf::replies_to<instance_failed_msg>::with<restore_point_msg>,
                   caf::reacts_to<instance_replaced_msg>,
                   caf::replies_to<checkpoints_atom>::with<std::vector<checkpoint_stats>>,
                   caf::replies_to<checkpoint_now_atom>::with<uint64_t>>;

template <class In, class Out>
struct wiring;

/// The whole typed interface of an operator instance reading In and writing Out. Beyond what
/// its neighbours and the runtime send, it takes its wiring and the messages it sends itself
/// (`flush_atom`: send partial batches; `produce_atom`: a source's next slice; `clock_atom`:
/// processing time reached what the operator asked to be woken at), which are in no handle that
/// others hold.
///
/// A host for `In` only accepts `batch<In>`: wiring a stream of another type to it does not
/// compile, since the upstream holds an `input_actor<Out>` handle.
template <class In, class Out>
using host_actor =
  typename input_actor<In>::template extend_with<output_actor<Out>, control_actor>::template extend<
    caf::reacts_to<wiring<In, Out>>, caf::reacts_to<flush_atom>, caf::reacts_to<produce_atom>,
    caf::reacts_to<clock_atom>>;

} // namespace sluice

namespace sluice {

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, no_input&) {
  return f(caf::meta::type_name("sluice.no_input"));
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, no_output&) {
  return f(caf::meta::type_name("sluice.no_output"));
}

template <class Inspector, class T>
typename Inspector::result_type inspect(Inspector& f, attach_downstream_msg<T>& x) {
  return f(caf::meta::type_name("sluice.attach_downstream"), x.output, x.target, x.incarnation,
           x.resume_seq, x.credit);
}

template <class Inspector, class T>
typename Inspector::result_type inspect(Inspector& f, attach_upstream_msg<T>& x) {
  return f(caf::meta::type_name("sluice.attach_upstream"), x.channel, x.upstream, x.upstream_output,
           x.incarnation);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, instance_failed_msg& x) {
  return f(caf::meta::type_name("sluice.instance_failed"), x.instance);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, restore_point_msg& x) {
  return f(caf::meta::type_name("sluice.restore_point"), x.completed, x.abandoned_through);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, instance_replaced_msg& x) {
  return f(caf::meta::type_name("sluice.instance_replaced"), x.instance, x.handle, x.incarnation);
}

} // namespace sluice
