#include "sluice/lmdb_layout.hpp"

#include <string>
#include <vector>

namespace sluice::lmdb_layout {

namespace {

constexpr size_t header_bytes = 6;
constexpr size_t id_bytes = 8;

} // namespace

std::string encode_id(uint64_t id) {
  std::string bytes(id_bytes, '\0');
  for (size_t i = id_bytes; i-- > 0; id >>= 8)
    bytes[i] = static_cast<char>(id & 0xff);
  return bytes;
}

uint64_t decode_id(std::string_view bytes) {
  uint64_t id = 0;
  for (auto c : bytes)
    id = (id << 8) | static_cast<unsigned char>(c);
  return id;
}

std::string key_group_prefix(uint32_t key_group) {
  return {static_cast<char>((key_group >> 8) & 0xff), static_cast<char>(key_group & 0xff)};
}

std::string stored_key(uint32_t key_group, const std::vector<char>& encoded_key) {
  auto n = static_cast<uint32_t>(encoded_key.size());
  auto bytes = key_group_prefix(key_group);
  bytes += {static_cast<char>(n >> 24), static_cast<char>((n >> 16) & 0xff),
            static_cast<char>((n >> 8) & 0xff), static_cast<char>(n & 0xff)};
  bytes.append(encoded_key.begin(), encoded_key.end());
  return bytes;
}

std::string_view encoded_key_of_stored(std::string_view stored) {
  return stored.substr(header_bytes);
}

std::string pending_key(std::string_view stored, uint64_t checkpoint) {
  std::string bytes{stored};
  bytes += encode_id(~checkpoint);
  return bytes;
}

uint64_t checkpoint_of_pending(std::string_view pending) {
  return ~decode_id(pending.substr(pending.size() - id_bytes));
}

std::string_view stored_of_pending(std::string_view pending) {
  return pending.substr(0, pending.size() - id_bytes);
}

void apply_pending(lmdb_environment::transaction& txn, lmdb_environment::database completed,
                   lmdb_environment::database pending, uint64_t id) {
  // Pending keys sort by stored key, then newest checkpoint first: the first version of a key
  // at or below `id` is the one to apply. A value is flagged: byte 1 and the value, or byte 0
  // for an erased key. Applied while scanning (the scan reads `pending` only), so a full
  // checkpoint's changes are never copied into memory.
  bool later_pending = false;
  std::string last_key;
  txn.scan(pending, {}, [&](std::string_view pk, std::string_view v) {
    if (checkpoint_of_pending(pk) > id) {
      later_pending = true;
      return true;
    }
    auto kb = stored_of_pending(pk);
    if (kb == last_key)
      return true;
    last_key = kb;
    if (v[0] == 1)
      txn.put(completed, kb, v.substr(1));
    else
      txn.erase(completed, kb);
    return true;
  });
  if (!later_pending) {
    txn.clear(pending);
    return;
  }
  // Changes of later checkpoints stay pending: only the applied ones go.
  std::vector<std::string> applied;
  txn.scan(pending, {}, [&](std::string_view pk, std::string_view) {
    if (checkpoint_of_pending(pk) <= id)
      applied.emplace_back(pk);
    return true;
  });
  for (const auto& pk : applied)
    txn.erase(pending, pk);
}

} // namespace sluice::lmdb_layout
