#include "sluice/detail/timer_spill.hpp"

#include <algorithm>
#include <cstdint>
#include <string_view>

#include "sluice/lmdb_layout.hpp"

namespace sluice::detail {

namespace {

constexpr size_t time_bytes = 8;
constexpr uint64_t sign_bit = uint64_t{1} << 63;
/// Entries buffered before they are written in one transaction.
constexpr size_t buffer_limit = size_t{1} << 16;

/// A timer as stored: its time as a big-endian id with the sign bit flipped (so byte order is
/// time order, negative times first), then the encoded key.
std::string stored(timestamp time, const std::string& key) {
  return lmdb_layout::encode_id(static_cast<uint64_t>(time) ^ sign_bit) + key;
}

timestamp time_of(std::string_view stored) {
  return static_cast<timestamp>(lmdb_layout::decode_id(stored.substr(0, time_bytes)) ^ sign_bit);
}

} // namespace

timer_spill::timer_spill(lmdb_environment& env, const std::string& name)
  : env_(&env), db_(env.open(name)) {
  if (size() > 0)
    env_->write([&](lmdb_environment::transaction& txn) { txn.clear(db_); });
}

void timer_spill::add(timestamp time, const std::string& key) {
  buffer_.push_back(stored(time, key));
  if (buffer_.size() >= buffer_limit)
    flush();
}

std::vector<timer_spill::entry> timer_spill::take(size_t n) {
  flush();
  std::vector<entry> taken;
  std::vector<std::string> keys;
  env_->write([&](lmdb_environment::transaction& txn) {
    taken.clear();
    keys.clear();
    txn.scan(db_, {}, [&](std::string_view key, std::string_view) {
      auto time = time_of(key);
      if (taken.size() >= n && taken.back().first != time)
        return false;
      taken.emplace_back(time, std::string{key.substr(time_bytes)});
      keys.emplace_back(key);
      return true;
    });
    for (const auto& key : keys)
      txn.erase(db_, key);
  });
  return taken;
}

std::optional<timestamp> timer_spill::earliest() {
  flush();
  std::optional<timestamp> first;
  env_->read([&](const lmdb_environment::transaction& txn) {
    txn.scan(db_, {}, [&](std::string_view key, std::string_view) {
      first = time_of(key);
      return false;
    });
  });
  return first;
}

size_t timer_spill::size() {
  flush();
  size_t n = 0;
  env_->read([&](const lmdb_environment::transaction& txn) { n = txn.entries(db_); });
  return n;
}

void timer_spill::flush() {
  if (buffer_.empty())
    return;
  // In key order: each page of the B-tree is written once per batch, not once per entry.
  std::sort(buffer_.begin(), buffer_.end());
  env_->write([&](lmdb_environment::transaction& txn) {
    for (const auto& key : buffer_)
      txn.put(db_, key, {});
  });
  buffer_.clear();
}

} // namespace sluice::detail
