#pragma once

#include <cstdint>
#include <string>

namespace sluice {

/// What a job has done with checkpoints, kept durably in one small file per pipeline
/// (`<state_dir>/<pipeline>/checkpoints`): the last checkpoint id handed out, so ids are never
/// reused, and the last checkpoint every instance took, the one a restarted job restores.
struct checkpoint_record {
  uint64_t triggered = 0;
  uint64_t completed = 0;

  /// The record in `path`, or an empty one if there is none.
  /// @throws state_error naming the path if the file exists but cannot be read or parsed.
  static checkpoint_record load(const std::string& path);

  /// Replaces the record in `path` atomically and durably (write, fsync, rename).
  /// @throws state_error naming the path on failure.
  void save(const std::string& path) const;
};

} // namespace sluice
