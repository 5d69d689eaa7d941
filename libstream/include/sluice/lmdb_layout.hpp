#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "sluice/lmdb_environment.hpp"

/// How keyed state lies in an instance's LMDB environment, at the level of bytes: what the typed
/// tables (lmdb_table), the state store and rescaling (state_layout) agree on.
namespace sluice::lmdb_layout {

/// The database of the environment's own entries: the type of each table, the last checkpoint
/// taken and the last one completed.
inline constexpr std::string_view meta_database = "~meta";
/// Meta key prefix of a table's type record: `type:<table name>`.
inline constexpr std::string_view type_prefix = "type:";
inline constexpr std::string_view taken_key = "checkpoint.taken";
inline constexpr std::string_view completed_key = "checkpoint.completed";

/// Tables whose names start with this are operator state (one list per instance), not keyed
/// state: rescaling deals their entries out round-robin instead of routing them by key group.
inline constexpr std::string_view operator_state_prefix = "~";
/// Operator state that rescaling gives every new instance whole (the union of all old lists).
inline constexpr std::string_view union_state_prefix = "~union:";
/// Tables of the timer service (`^timers:<domain>`): keyed state, as user state is, under names
/// users cannot take.
inline constexpr std::string_view timer_state_prefix = "^timers:";

/// The database names of table `name`'s layers below its in-memory overlay.
[[nodiscard]] inline std::string spill_database(const std::string& name) {
  return name + "~spill";
}
[[nodiscard]] inline std::string pending_database(const std::string& name) {
  return name + "~pending";
}

/// The database of the time order of timer table `name` (detail::timer_spill): derived from the
/// table when its timers open, never part of a checkpoint.
[[nodiscard]] inline std::string order_database(const std::string& name) {
  return name + "~order";
}

/// A checkpoint id as 8 big-endian bytes, and back.
[[nodiscard]] std::string encode_id(uint64_t id);
[[nodiscard]] uint64_t decode_id(std::string_view bytes);

/// A stored key: the big-endian key group (2 bytes), the length of the encoded key (4 bytes)
/// and the encoded key, so a key group's entries are contiguous and no stored key is a prefix
/// of another.
[[nodiscard]] std::string stored_key(uint32_t key_group, const std::vector<char>& encoded_key);

/// The prefix of all stored keys of a key group.
[[nodiscard]] std::string key_group_prefix(uint32_t key_group);

/// The encoded key inside a stored key.
[[nodiscard]] std::string_view encoded_key_of_stored(std::string_view stored);

/// A pending key: the stored key and the checkpoint id inverted, so that the versions of a key
/// sort newest first.
[[nodiscard]] std::string pending_key(std::string_view stored, uint64_t checkpoint);
[[nodiscard]] uint64_t checkpoint_of_pending(std::string_view pending);
[[nodiscard]] std::string_view stored_of_pending(std::string_view pending);

/// Applies the pending changes of checkpoints up to `id` to the completed entries and removes
/// them from the pending ones.
void apply_pending(lmdb_environment::transaction& txn, lmdb_environment::database completed,
                   lmdb_environment::database pending, uint64_t id);

} // namespace sluice::lmdb_layout
