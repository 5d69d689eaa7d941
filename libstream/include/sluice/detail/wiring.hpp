#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <caf/meta/type_name.hpp>

#include "sluice/dead_letter.hpp"
#include "sluice/detail/partitioner.hpp"
#include "sluice/detail/retention_gate.hpp"
#include "sluice/interfaces.hpp"
#include "sluice/recovery_log.hpp"

namespace sluice {

/// One channel from this instance to one downstream instance, as wired by the runtime.
template <class T>
struct channel_target {
  input_actor<T> actor;
  channel_index channel = 0;
  uint32_t incarnation = 0;
};

/// One channel into an instance, as wired by the runtime: the upstream instance, its output
/// index for the channel and its incarnation.
template <class T>
struct input_wiring {
  output_actor<T> upstream;
  uint32_t output = 0;
  uint32_t incarnation = 0;
};

/// How an incarnation starts, as far as recovery goes (docs/architecture.md, "Recovery").
struct recovery_wiring {
  /// A new incarnation of a failed instance: it restores its channels from the log, replays
  /// what the log holds (with `keep_order`) and attaches its channels anew.
  bool restarted = false;
  bool keep_order = true;
  /// Checkpoints after the restored one up to this one were abandoned when the instance failed:
  /// a replay passes their barriers on without taking them again.
  uint64_t abandoned_through = 0;
  /// Why the previous incarnation failed.
  std::string last_failure;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, recovery_wiring& x) {
  return f(caf::meta::type_name("sluice.recovery_wiring"), x.restarted, x.keep_order,
           x.abandoned_through, x.last_failure);
}

/// One outgoing edge of an instance: its partitioning and its channels.
template <class T>
struct edge_wiring {
  partitioning kind = partitioning::forward;
  uint32_t max_parallelism = 128;
  std::vector<channel_target<T>> targets;
};

/// The runtime tells each instance where its records go and where its input comes from.
template <class In, class Out>
struct wiring {
  std::vector<edge_wiring<Out>> outputs;
  /// Indexed by input channel.
  std::vector<input_wiring<In>> inputs;
  /// Where to acknowledge checkpoints (null when the job takes none), and this instance's
  /// number in the job.
  coordinator_actor coordinator;
  uint32_t instance_number = 0;
  recovery_wiring recovery;
};

template <class Inspector, class T>
typename Inspector::result_type inspect(Inspector& f, channel_target<T>& x) {
  return f(caf::meta::type_name("sluice.channel_target"), x.actor, x.channel, x.incarnation);
}

template <class Inspector, class T>
typename Inspector::result_type inspect(Inspector& f, input_wiring<T>& x) {
  return f(caf::meta::type_name("sluice.input_wiring"), x.upstream, x.output, x.incarnation);
}

template <class Inspector, class T>
typename Inspector::result_type inspect(Inspector& f, edge_wiring<T>& x) {
  return f(caf::meta::type_name("sluice.edge_wiring"), x.kind, x.max_parallelism, x.targets);
}

template <class Inspector, class In, class Out>
typename Inspector::result_type inspect(Inspector& f, wiring<In, Out>& x) {
  return f(caf::meta::type_name("sluice.wiring"), x.outputs, x.inputs, x.coordinator,
           x.instance_number, x.recovery);
}

/// What an instance shares with the other instances of its node, handed to it when it is
/// spawned and never in a message: the wiring it receives is plain data that could come from
/// another process.
template <class Out>
struct instance_services {
  /// What the supervisor keeps of the instance for its next incarnation; null when the job
  /// takes no checkpoints (nothing is then logged or retained).
  std::shared_ptr<recovery_log> log;
  /// Closed while an instance of the job retains more than the limit: sources pause.
  std::shared_ptr<detail::retention_gate> retention;
  /// Under `failure_policy::skip`: the job's dead letters.
  std::shared_ptr<dead_letter_store> dead_letters;
  /// Per outgoing edge, in wiring order: the stable hash of a record's key (hash edges only).
  std::vector<std::function<uint64_t(const Out&)>> key_hashes;
};

} // namespace sluice
