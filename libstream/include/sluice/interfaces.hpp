#pragma once

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

/// What an upstream instance sends to a downstream instance of element type T.
template <class T>
using input_actor = caf::typed_actor<caf::reacts_to<batch<T>>, caf::reacts_to<watermark_msg>,
                                     caf::reacts_to<idle_msg>, caf::reacts_to<end_of_stream_msg>,
                                     caf::reacts_to<barrier_msg>>;

/// What a downstream instance sends back to an upstream instance.
using output_actor = caf::typed_actor<caf::reacts_to<credit_msg>>;

/// What the runtime (and later the console) sends to every instance.
using control_actor =
  caf::typed_actor<caf::reacts_to<start_atom>, caf::reacts_to<flush_atom>,
                   caf::reacts_to<produce_atom>, caf::reacts_to<trigger_checkpoint_msg>,
                   caf::reacts_to<checkpoint_done_msg>, caf::reacts_to<finish_atom>,
                   caf::replies_to<inspect_atom>::with<instance_stats>>;

/// The checkpoint coordinator of a job: instances acknowledge checkpoints and report finished
/// sources; the job (and the console) asks for statistics and checkpoints on request.
using coordinator_actor =
  caf::typed_actor<caf::reacts_to<checkpoint_ack_msg>, caf::reacts_to<source_finished_msg>,
                   caf::replies_to<checkpoints_atom>::with<std::vector<checkpoint_stats>>,
                   caf::replies_to<checkpoint_now_atom>::with<uint64_t>>;

template <class Out>
struct wiring;

/// The whole typed interface of an operator instance reading In and writing Out.
///
/// A host for `In` only accepts `batch<In>`: wiring a stream of another type to it does not
/// compile, since the upstream holds an `input_actor<Out>` handle.
template <class In, class Out>
using host_actor = typename input_actor<In>::template extend_with<
  output_actor, control_actor>::template extend<caf::reacts_to<wiring<Out>>>;

} // namespace sluice

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(sluice::no_input)
