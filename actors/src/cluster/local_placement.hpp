#pragma once

// What a node ran of a job, kept beside the job's state on the node (docs/cluster.md).

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace sluice::cluster {

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

} // namespace sluice::cluster
