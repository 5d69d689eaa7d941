#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sluice/lmdb_environment.hpp"
#include "sluice/record.hpp"

namespace sluice::detail {

/// The later part of a timer service's time order, on disk: (time, key) entries in a database
/// of the instance's LMDB environment, which LMDB's B-tree keeps in time order, so millions of
/// pending timers do not each hold memory (Flink's RocksDB timer service keeps its timers so).
///
/// The order is derived from the timer table, the keyed state the timers are: it is not part of
/// checkpoints, and is emptied when opened, for the service to rebuild. Keys are held encoded;
/// entries added are buffered and written in batches, sorted, appended where they come after
/// everything written (timers are mostly added in time order).
class timer_spill {
public:
  /// A timer: its time and its encoded key.
  using entry = std::pair<timestamp, std::string>;

  /// Opens the order database `name` of `env`, empty.
  /// @throws state_error if the environment cannot be written.
  timer_spill(lmdb_environment& env, const std::string& name);

  /// Adds the timer of encoded key `key` at `time`; nothing if it is there already.
  void add(timestamp time, std::string_view key);

  /// Removes and returns the earliest entries, in time order (by key bytes within a time): `n`
  /// of them (all if there are fewer), and then the others of the last time taken, so no time
  /// is split between what was taken and what stays.
  std::vector<entry> take(size_t n);

  /// The time of the earliest entry, if any.
  [[nodiscard]] std::optional<timestamp> earliest();

private:
  /// An entry added and not yet written: its time as stored, and where its key lies in
  /// `buffered_keys_`.
  struct buffered {
    uint64_t order;
    uint32_t offset;
    uint32_t size;
  };

  /// Writes the buffered entries to the database.
  void flush();

  lmdb_environment* env_;
  lmdb_environment::database db_;
  std::vector<buffered> buffer_;
  /// The keys of the buffered entries, back to back.
  std::string buffered_keys_;
};

} // namespace sluice::detail
