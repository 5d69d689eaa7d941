#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "sluice/keyed_table.hpp"
#include "sluice/record.hpp"
#include "sluice/state_codec.hpp"

namespace sluice {

/// Event-time time-to-live of keyed state (Flink only has processing-time TTL): an entry
/// expires `ttl` after the event time of its last update. Zero: entries never expire.
struct state_ttl {
  std::chrono::milliseconds ttl{0};

  [[nodiscard]] explicit operator bool() const noexcept { return ttl.count() > 0; }
};

/// A state value and the event time of its last update, as a TTL table stores it.
template <class V>
struct timed_value {
  V value{};
  timestamp updated = min_timestamp;
};

template <class V>
void sluice_encode(state_writer& w, const timed_value<V>& x) {
  w.write(x.updated);
  w.write(x.value);
}

template <class V>
void sluice_decode(state_reader& r, timed_value<V>& x) {
  r.read(x.updated);
  r.read(x.value);
}

/// A keyed table whose entries expire by event time. The event-time clock of an instance is
/// the larger of its watermark and the event time of the record being processed; an entry is
/// expired once that clock is `ttl` or more past its last update.
///
/// Expired entries are invisible at once and removed lazily: when read, and by a sweep over
/// the whole table at the first checkpoint after the clock advanced half the TTL since the
/// last sweep, so at most about 1.5 TTL of expired entries stay stored, and sweeps cost a scan
/// per half TTL of event time. The update times are stored with the values, so expiry carries
/// over a restore.
template <class K, class V>
class ttl_table final : public keyed_table<K, V> {
public:
  using clock_fn = std::function<timestamp()>;

  ttl_table(std::shared_ptr<keyed_table<K, timed_value<V>>> inner, state_ttl ttl, clock_fn clock)
    : inner_(std::move(inner)), ttl_(ttl.ttl.count()), clock_(std::move(clock)) {}

  [[nodiscard]] std::chrono::milliseconds ttl() const noexcept {
    return std::chrono::milliseconds{ttl_};
  }

  const V* find(const K& key) override {
    const auto* entry = inner_->find(key);
    if (!entry)
      return nullptr;
    if (expired(entry->updated, clock_())) {
      inner_->erase(key);
      return nullptr;
    }
    return &entry->value;
  }

  V& upsert(const K& key) override {
    auto now = clock_();
    auto& entry = inner_->upsert(key);
    if (expired(entry.updated, now))
      entry.value = V{};
    entry.updated = now;
    return entry.value;
  }

  void erase(const K& key) override { inner_->erase(key); }

  void prefetch(const K& key) const override { inner_->prefetch(key); }

  uint64_t lookups() const noexcept override { return inner_->lookups(); }

  /// An expired value counts as none (and is removed); a live one changed is updated now.
  bool modify(const K& key, const std::function<bool(V&)>& change) override {
    auto now = clock_();
    bool live = false;
    bool found = inner_->modify(key, [&](timed_value<V>& entry) {
      if (expired(entry.updated, now))
        return true;
      live = true;
      entry.updated = now;
      return change(entry.value);
    });
    return found && live;
  }

  /// Entries stored, expired ones not yet removed included.
  size_t size() const override { return inner_->size(); }

  void release_memory() override { inner_->release_memory(); }

  void for_each(const std::function<void(const K&, const V&)>& fn) const override {
    auto now = clock_();
    inner_->for_each([&](const K& key, const timed_value<V>& entry) {
      if (!expired(entry.updated, now))
        fn(key, entry.value);
    });
  }

  /// Before a checkpoint: removes every expired entry if the clock advanced half the TTL since
  /// the last sweep.
  void sweep_if_due() {
    auto now = clock_();
    if (now == min_timestamp || (last_sweep_ && now - *last_sweep_ < ttl_ / 2))
      return;
    std::vector<K> gone;
    inner_->for_each([&](const K& key, const timed_value<V>& entry) {
      if (expired(entry.updated, now))
        gone.push_back(key);
    });
    for (const auto& key : gone)
      inner_->erase(key);
    last_sweep_ = now;
  }

private:
  [[nodiscard]] bool expired(timestamp updated, timestamp now) const {
    // Unsigned difference: `now - updated` cannot overflow even from min_timestamp.
    return now > updated
           && static_cast<uint64_t>(now) - static_cast<uint64_t>(updated)
                >= static_cast<uint64_t>(ttl_);
  }

  std::shared_ptr<keyed_table<K, timed_value<V>>> inner_;
  int64_t ttl_;
  clock_fn clock_;
  std::optional<timestamp> last_sweep_;
};

} // namespace sluice
