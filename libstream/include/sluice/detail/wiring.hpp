#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

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

/// How an instance takes part in recovery (docs/architecture.md, "Recovery").
struct recovery_wiring {
  /// Null when the job takes no checkpoints: nothing is logged or retained.
  std::shared_ptr<recovery_log> log;
  /// A new incarnation of a failed instance: it restores its channels from the log, replays
  /// what the log holds (with `keep_order`) and attaches its channels anew.
  bool restarted = false;
  bool keep_order = true;
  /// Checkpoints after the restored one up to this one were abandoned when the instance failed:
  /// a replay passes their barriers on without taking them again.
  uint64_t abandoned_through = 0;
  /// Why the previous incarnation failed.
  std::string last_failure;
  /// Closed while an instance of the job retains more than the limit: sources pause.
  std::shared_ptr<detail::retention_gate> retention;
};

/// One outgoing edge of an instance: its partitioning and its channels.
template <class T>
struct edge_wiring {
  partitioning kind = partitioning::forward;
  /// Stable hash of a record's key; set for `partitioning::hash`.
  std::function<uint64_t(const T&)> key_hash;
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
  /// Under `failure_policy::skip`: the job's dead letters.
  std::shared_ptr<dead_letter_store> dead_letters;
};

} // namespace sluice

namespace caf {
template <class In, class Out>
struct allowed_unsafe_message_type<sluice::wiring<In, Out>> : std::true_type {};
} // namespace caf
