#pragma once

// Where a job's instances run: the slots' nodes, and what a node ran of a job, kept beside the
// job's state on the node (docs/cluster.md).

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <caf/error.hpp>

#include "sluice/config.hpp"
#include "sluice/detail/graph.hpp"

namespace sluice::cluster {

/// The node of each of `slot_count` slots: the one of `nodes` whose name hashes highest with
/// the slot (rendezvous hashing) among those with fewer than their share of slots (a share is
/// the slot count over the node count, rounded up). The same nodes give the same placement
/// whoever computes it and however often they restart, every node gets a share or one less,
/// and a node that goes or comes moves few slots besides its own.
std::vector<std::string> place_slots(int32_t slot_count, const std::set<std::string>& nodes);

/// The part of a job a node ran: the node that led it (and keeps the job's checkpoint record)
/// and the job-wide numbers of the instances the node ran. Kept in the pipeline's state
/// directory on the node (`placement`): an instance restores from its node's own LMDB state, so
/// a job restores only onto the placement its checkpoints were taken with, until state goes
/// through Kafka.
struct local_placement {
  std::string leader;
  std::vector<uint32_t> instances;

  friend bool operator==(const local_placement&, const local_placement&) = default;

  /// The placement recorded at `path`, or nothing if there is none.
  /// @throws state_error naming the path if it cannot be read or parsed.
  static std::optional<local_placement> load(const std::string& path);

  /// Records the placement at `path` durably. @throws state_error naming the path.
  void save(const std::string& path) const;
};

/// Why this node cannot run placement `now` of a job restoring to checkpoint `restore_to`
/// (0: a fresh start), having run `before` (if anything): its state would not be there. Empty
/// if it can.
std::optional<std::string> placement_conflict(const std::optional<local_placement>& before,
                                              const local_placement& now, uint64_t restore_to);

/// Whether node `node` can run the instances `placed_here` (by job-wide number) of pipeline
/// `pipeline` over graph `g`, led by `leader` and restoring to checkpoint `restore_to` (0: a
/// fresh start): with LMDB state, an instance restores from its node's disk, so the job must run
/// as its checkpoints were taken (the same leader, the same instances here, the same
/// parallelism). Records the placement for the next run. An error of code errc::state naming
/// the record if not.
caf::error claim_placement(const detail::graph& g, const std::string& pipeline,
                           const runtime_config& config, const std::string& node,
                           const std::string& leader, const std::vector<bool>& placed_here,
                           uint64_t restore_to);

} // namespace sluice::cluster
