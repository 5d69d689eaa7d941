#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "sluice/key_group.hpp"
#include "sluice/keyed_table.hpp"
#include "sluice/lmdb_environment.hpp"
#include "sluice/state_codec.hpp"

namespace sluice {

/// What a state store needs of its LMDB tables to commit them together at a checkpoint.
class lmdb_table_base {
public:
  virtual ~lmdb_table_base() = default;

  /// Adds the table's changes since the last checkpoint to a checkpoint transaction.
  virtual void prepare_checkpoint(
    std::vector<std::pair<lmdb_environment::database, lmdb_environment::database>>& merges,
    std::vector<lmdb_environment::change>& changes) const = 0;

  /// The checkpoint transaction committed: nothing the table holds is pending any more.
  virtual void checkpoint_committed() = 0;
};

/// Keyed state in LMDB: the entries as of the last completed checkpoint in one database
/// (`<name>`), with two layers of changes made since in front of it:
///
/// - an in-memory overlay of entries read or written since (a cache, and the dirty entries);
/// - when the overlay holds `overlay_limit` entries, its dirty entries spill into a second
///   database (`<name>~spill`, a tombstone for an erased key) and the overlay is emptied.
///
/// Reads look in the overlay, then the spill, then the checkpointed entries. A checkpoint
/// moves the spill and the dirty entries into the checkpointed entries in one transaction; when
/// the table is opened again, a spill left behind is discarded, so the table restarts from its
/// last checkpoint. Keys are stored as the big-endian key group followed by the encoded key, so
/// the entries of a key group are contiguous.
template <storable K, storable V>
class lmdb_table final : public keyed_table<K, V>, public lmdb_table_base {
public:
  lmdb_table(lmdb_environment& env, const std::string& name, uint32_t max_parallelism,
             size_t overlay_limit)
    : env_(&env),
      main_(env.open(name)),
      spill_(env.open(name + "~spill")),
      max_parallelism_(max_parallelism),
      overlay_limit_(std::max<size_t>(overlay_limit, 1)) {
    env.commit({}, {}, {spill_});
    size_ = env.entries(main_);
  }

  const V* find(const K& key) override {
    auto& s = load(key);
    return s.value ? &*s.value : nullptr;
  }

  V& upsert(const K& key) override {
    auto& s = load(key);
    if (!s.value) {
      s.value.emplace();
      ++size_;
    }
    s.dirty = true;
    return *s.value;
  }

  void erase(const K& key) override {
    auto& s = load(key);
    if (!s.value)
      return;
    s.value.reset();
    s.dirty = true;
    --size_;
  }

  size_t size() const override { return size_; }

  void for_each(const std::function<void(const K&, const V&)>& fn) const override {
    for (const auto& [key, s] : overlay_)
      if (s.value)
        fn(key, *s.value);
    // Then what only the databases hold: the spill shadows the checkpointed entries.
    std::unordered_set<std::string> spilled;
    env_->scan(spill_, {}, [&](std::string_view kb, std::string_view vb) {
      spilled.emplace(kb);
      auto key = decode_key(kb);
      if (!overlay_.contains(key) && !vb.empty() && vb[0] == 1)
        fn(key, decode_state<V>(vb.data() + 1, vb.size() - 1));
      return true;
    });
    env_->scan(main_, {}, [&](std::string_view kb, std::string_view vb) {
      if (spilled.contains(std::string{kb}))
        return true;
      auto key = decode_key(kb);
      if (!overlay_.contains(key))
        fn(key, decode_state<V>(vb.data(), vb.size()));
      return true;
    });
  }

  void prepare_checkpoint(
    std::vector<std::pair<lmdb_environment::database, lmdb_environment::database>>& merges,
    std::vector<lmdb_environment::change>& changes) const override {
    merges.emplace_back(spill_, main_);
    for (const auto& [key, s] : overlay_) {
      if (!s.dirty)
        continue;
      lmdb_environment::change c{main_, key_bytes(key), std::nullopt};
      if (s.value) {
        auto bytes = encode_state(*s.value);
        c.value.emplace(bytes.begin(), bytes.end());
      }
      changes.push_back(std::move(c));
    }
  }

  void checkpoint_committed() override {
    for (auto& entry : overlay_)
      entry.second.dirty = false;
  }

private:
  struct slot {
    std::optional<V> value;
    bool dirty = false;
  };

  struct hasher {
    size_t operator()(const K& key) const noexcept { return key_hash<K>{}(key); }
  };

  /// The overlay slot of `key`, read from the databases if the overlay does not hold it.
  slot& load(const K& key) {
    if (auto i = overlay_.find(key); i != overlay_.end())
      return i->second;
    if (overlay_.size() >= overlay_limit_)
      spill();
    slot s;
    auto kb = key_bytes(key);
    if (auto spilled = env_->get(spill_, kb)) {
      if (!spilled->empty() && (*spilled)[0] == 1)
        s.value = decode_state<V>(spilled->data() + 1, spilled->size() - 1);
    } else if (auto stored = env_->get(main_, kb)) {
      s.value = decode_state<V>(stored->data(), stored->size());
    }
    return overlay_.emplace(key, std::move(s)).first->second;
  }

  /// Writes the dirty entries of the overlay to the spill database and empties the overlay.
  void spill() {
    std::vector<lmdb_environment::change> changes;
    for (const auto& [key, s] : overlay_) {
      if (!s.dirty)
        continue;
      std::string value(1, s.value ? char{1} : char{0});
      if (s.value) {
        auto bytes = encode_state(*s.value);
        value.append(bytes.begin(), bytes.end());
      }
      changes.push_back({spill_, key_bytes(key), std::move(value)});
    }
    if (!changes.empty())
      env_->commit({}, changes);
    overlay_.clear();
  }

  std::string key_bytes(const K& key) const {
    auto group = key_group_of(key, max_parallelism_);
    std::string bytes{static_cast<char>(group >> 8), static_cast<char>(group & 0xff)};
    auto encoded = encode_state(key);
    bytes.append(encoded.begin(), encoded.end());
    return bytes;
  }

  static K decode_key(std::string_view bytes) {
    return decode_state<K>(bytes.data() + 2, bytes.size() - 2);
  }

  lmdb_environment* env_;
  lmdb_environment::database main_;
  lmdb_environment::database spill_;
  uint32_t max_parallelism_;
  size_t overlay_limit_;
  size_t size_ = 0;
  std::unordered_map<K, slot, hasher> overlay_;
};

} // namespace sluice
