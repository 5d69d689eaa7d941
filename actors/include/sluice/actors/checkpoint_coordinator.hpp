#pragma once

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include <caf/actor_system.hpp>

#include "sluice/checkpoint_record.hpp"
#include "sluice/interfaces.hpp"

namespace sluice {

/// What a checkpoint coordinator needs to know of its job.
struct coordinator_config {
  /// Time between the completion of one checkpoint and the trigger of the next.
  std::chrono::milliseconds interval{1000};
  /// The durable record of the job's checkpoints (see checkpoint_record), and what it held
  /// when the job started.
  std::string record_path;
  checkpoint_record record;
  /// Every instance (numbered by position) with its operator name and index, and the numbers
  /// of the sources.
  std::vector<control_actor> instances;
  std::vector<std::pair<std::string, uint32_t>> instance_names;
  std::vector<uint32_t> sources;
  /// Sources that end after the others (the dead letters): they take checkpoints, but the
  /// final checkpoint does not wait for them and they do not wait for it.
  std::vector<uint32_t> trailing_sources;
};

/// Spawns the coordinator of a job's checkpoints (aligned barriers, as Flink's).
///
/// Every `interval` it takes the next checkpoint id, records it durably (ids are never reused,
/// also across restarts), and tells each source to take the checkpoint: the sources record
/// their positions and send barriers, which every instance aligns over its inputs before
/// writing its state and acknowledging. When every instance has acknowledged, the coordinator
/// records the checkpoint as completed durably and tells every instance, which then applies
/// the checkpoint's state changes. One checkpoint is in flight at a time.
///
/// On request (`checkpoint_now_atom`) it triggers a checkpoint at once, or right after the one
/// in flight, and replies with its id. It keeps statistics of its last checkpoints (duration,
/// and per instance alignment, write time and bytes) and replies with them to
/// `checkpoints_atom`.
///
/// Sources of a bounded job report when they have read everything and wait: once all have,
/// the coordinator takes a final checkpoint at once, and when it completes tells the sources
/// to end their streams. So a job restored after its sources finished resumes from the end.
///
/// When a supervisor reports a failed instance, it abandons the checkpoint in flight, answers
/// with the last completed checkpoint (where the new incarnation restores to), and triggers no
/// checkpoint until the supervisor reports the instance replaced.
///
/// It monitors the instances: once one has finished (the job is ending), it takes no further
/// checkpoints. The job's supervisor stops it. A record it cannot write stops it with an error.
coordinator_actor spawn_checkpoint_coordinator(caf::actor_system& sys, coordinator_config config);

} // namespace sluice
