#include "sluice/detail/timer_spill.hpp"

#include <algorithm>

#include "sluice/lmdb_layout.hpp"

namespace sluice::detail {

namespace {

constexpr size_t time_bytes = 8;
constexpr uint64_t sign_bit = uint64_t{1} << 63;
/// Entries buffered before they are written in one transaction.
constexpr size_t buffer_limit = size_t{1} << 16;

/// A time as stored: a big-endian id with the sign bit flipped, so byte order is time order,
/// negative times first. The stored key is that, then the encoded key.
uint64_t order_of(timestamp time) {
  return static_cast<uint64_t>(time) ^ sign_bit;
}

timestamp time_of(std::string_view stored) {
  return static_cast<timestamp>(lmdb_layout::decode_id(stored.substr(0, time_bytes)) ^ sign_bit);
}

} // namespace

timer_spill::timer_spill(lmdb_environment& env, const std::string& name)
  : env_(&env), db_(env.open(name)) {
  env_->write([&](lmdb_environment::transaction& txn) {
    if (txn.entries(db_) > 0)
      txn.clear(db_);
  });
}

void timer_spill::add(timestamp time, std::string_view key) {
  buffer_.push_back({order_of(time), static_cast<uint32_t>(buffered_keys_.size()),
                     static_cast<uint32_t>(key.size())});
  buffered_keys_.append(key);
  if (buffer_.size() >= buffer_limit)
    flush();
}

std::vector<timer_spill::entry> timer_spill::take(size_t n) {
  flush();
  std::vector<entry> taken;
  env_->write([&](lmdb_environment::transaction& txn) {
    taken.clear();
    txn.erase_front_while(db_, [&](std::string_view key, std::string_view) {
      auto time = time_of(key);
      if (taken.size() >= n && taken.back().first != time)
        return false;
      taken.emplace_back(time, std::string{key.substr(time_bytes)});
      return true;
    });
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

void timer_spill::flush() {
  if (buffer_.empty())
    return;
  auto key_of = [&](const buffered& b) {
    return std::string_view{buffered_keys_}.substr(b.offset, b.size);
  };
  // In key order: appended at the end where they follow everything written (timers come
  // mostly in time order), else each page of the B-tree written once per batch.
  std::sort(buffer_.begin(), buffer_.end(), [&](const buffered& a, const buffered& b) {
    return a.order != b.order ? a.order < b.order : key_of(a) < key_of(b);
  });
  env_->write([&](lmdb_environment::transaction& txn) {
    std::string stored;
    for (const auto& b : buffer_) {
      stored = lmdb_layout::encode_id(b.order);
      stored.append(key_of(b));
      if (!txn.append(db_, stored, {}))
        txn.put(db_, stored, {});
    }
  });
  buffer_.clear();
  buffered_keys_.clear();
}

} // namespace sluice::detail
