#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

#include "sluice/key_group.hpp"
#include "sluice/keyed_table.hpp"
#include "sluice/lmdb_environment.hpp"
#include "sluice/lmdb_layout.hpp"
#include "sluice/state_codec.hpp"

namespace sluice {

/// What a state store needs of its LMDB tables to checkpoint them together.
class lmdb_table_base {
public:
  virtual ~lmdb_table_base() = default;

  /// In the checkpoint transaction of checkpoint `id`: moves the table's changes since the
  /// last checkpoint into its pending changes, as those of `id`; returns the bytes written.
  virtual uint64_t write_checkpoint(lmdb_environment::transaction& txn, uint64_t id) const = 0;

  /// The checkpoint transaction committed: nothing the overlay holds is dirty any more.
  virtual void checkpoint_written() = 0;

  /// Applies the pending changes of checkpoints up to `id` to the completed entries.
  virtual void complete(lmdb_environment::transaction& txn, uint64_t id) const = 0;
};

/// Keyed state in LMDB, as four layers, newest first:
///
/// 1. an in-memory overlay of the entries read or written since the last checkpoint (a cache,
///    and the dirty entries);
/// 2. the spill (database `<name>~spill`): when the overlay holds `overlay_limit` entries, its
///    dirty entries are written here (an erased key as a tombstone) and the overlay is emptied;
/// 3. the pending changes (`<name>~pending`): what each checkpoint taken but not yet completed
///    changed, by checkpoint id;
/// 4. the completed entries (`<name>`): the state as of the last completed checkpoint.
///
/// Taking checkpoint n moves layers 1 and 2 into layer 3 as n's changes; completing n applies
/// the pending changes up to n to layer 4. Opening the table restores it to a completed
/// checkpoint: the spill and the pending changes of later checkpoints are dropped, those up to
/// it applied.
///
/// Stored keys start with their key group (lmdb_layout::stored_key).
template <storable K, storable V>
class lmdb_table final : public keyed_table<K, V>, public lmdb_table_base {
public:
  /// Opens table `name`, restored to checkpoint `restore_to`.
  lmdb_table(lmdb_environment& env, const std::string& name, uint32_t max_parallelism,
             size_t overlay_limit, uint64_t restore_to)
    : env_(&env),
      completed_(env.open(name)),
      spill_(env.open(lmdb_layout::spill_database(name))),
      pending_(env.open(lmdb_layout::pending_database(name))),
      max_parallelism_(max_parallelism),
      overlay_limit_(std::max<size_t>(overlay_limit, 1)) {
    env.write([&](lmdb_environment::transaction& txn) {
      txn.clear(spill_);
      complete(txn, restore_to);
      txn.clear(pending_);
      size_ = txn.entries(completed_);
    });
    stored_ = size_ > 0;
  }

  const V* find(const K& key) override {
    auto& s = load(key)->second;
    return s.value ? &*s.value : nullptr;
  }

  V& upsert(const K& key) override {
    auto i = load(key);
    if (!i->second.value) {
      i->second.value.emplace();
      ++size_;
    }
    mark_dirty(i);
    return *i->second.value;
  }

  void prefetch(const K& key) const override { overlay_.prefetch(key); }

  uint64_t lookups() const noexcept override { return lookups_; }

  void erase(const K& key) override {
    auto i = load(key);
    if (i->second.value)
      remove(i);
  }

  bool modify(const K& key, const std::function<bool(V&)>& change) override {
    auto i = load(key);
    if (!i->second.value)
      return false;
    mark_dirty(i);
    if (change(*i->second.value))
      remove(i);
    return true;
  }

  size_t size() const override { return size_; }

  /// How many entries the overlay holds in memory (values, and erased keys a layer below
  /// still holds).
  [[nodiscard]] size_t overlay_entries() const noexcept { return overlay_.size(); }

  void release_memory() override {
    recent_valid_ = false;
    detail::dispose_in_background(std::move(overlay_));
    detail::dispose_in_background(std::move(listed_));
  }

  void for_each(const std::function<void(const K&, const V&)>& fn) const override {
    for (const auto& [key, s] : overlay_)
      if (s.value)
        fn(key, *s.value);
    // Then what only the databases hold, each key at its newest layer.
    std::unordered_set<std::string> seen;
    auto visit = [&](std::string_view kb, std::string_view flagged) {
      if (!seen.emplace(kb).second)
        return;
      auto key = decode_key(kb);
      if (!overlay_.contains(key) && flagged[0] == 1)
        fn(key, decode_state<V>(flagged.data() + 1, flagged.size() - 1));
    };
    env_->read([&](const lmdb_environment::transaction& txn) {
      txn.scan(spill_, {}, [&](std::string_view kb, std::string_view v) {
        visit(kb, v);
        return true;
      });
      txn.scan(pending_, {}, [&](std::string_view pk, std::string_view v) {
        visit(lmdb_layout::stored_of_pending(pk), v);
        return true;
      });
      txn.scan(completed_, {}, [&](std::string_view kb, std::string_view v) {
        if (seen.contains(std::string{kb}))
          return true;
        auto key = decode_key(kb);
        if (!overlay_.contains(key))
          fn(key, decode_state<V>(v.data(), v.size()));
        return true;
      });
    });
  }

  uint64_t write_checkpoint(lmdb_environment::transaction& txn, uint64_t id) const override {
    uint64_t bytes = 0;
    auto put = [&](std::string_view key, std::string_view value) {
      txn.put(pending_, key, value);
      bytes += key.size() + value.size();
    };
    // Straight from the spill into the pending changes, without a copy in memory: a full
    // checkpoint's spill can hold most of the state.
    txn.scan(spill_, {}, [&](std::string_view kb, std::string_view v) {
      put(lmdb_layout::pending_key(kb, id), v);
      return true;
    });
    txn.clear(spill_);
    // The listed entries, not the whole overlay: a steady-state checkpoint costs what changed.
    for (const auto& key : listed_)
      if (const auto& s = overlay_.find(key)->second; s.dirty)
        put(lmdb_layout::pending_key(key_bytes(key), id), flagged(s.value));
    return bytes;
  }

  void checkpoint_written() override {
    recent_valid_ = false;
    for (const auto& key : listed_) {
      auto i = overlay_.find(key);
      // An erased key now has its tombstone in the pending changes (or none needed): the
      // overlay can forget it, as a key found nowhere.
      if (!i->second.value) {
        overlay_.erase(i);
        continue;
      }
      i->second.below = i->second.below || i->second.dirty;
      i->second.dirty = false;
      i->second.listed = false;
    }
    listed_.clear();
  }

  void complete(lmdb_environment::transaction& txn, uint64_t id) const override {
    lmdb_layout::apply_pending(txn, completed_, pending_, id);
  }

private:
  struct slot {
    std::optional<V> value;
    /// Changed since the last checkpoint.
    bool dirty = false;
    /// The key is in `listed_`.
    bool listed = false;
    /// A layer below the overlay may hold the key (it was read from there, or a checkpoint
    /// wrote it): erasing it must leave a tombstone.
    bool below = false;
  };

  using overlay_map = detail::key_map<K, slot, table_hash<K>>;

  /// The overlay entry of `key`, read from the newest layer that holds it if the overlay
  /// does not.
  typename overlay_map::iterator load(const K& key) {
    ++lookups_;
    // The key just used, again (an operator reads its key's state, then writes it): no lookup.
    if (!recent_valid_ || !(recent_->first == key)) {
      recent_ = locate(key);
      recent_valid_ = true;
    }
    return recent_;
  }

  typename overlay_map::iterator locate(const K& key) {
    // Nothing stored yet and room in the overlay: one lookup finds the key's slot or makes it.
    if (!stored_ && overlay_.size() < overlay_limit_) {
      auto [i, made] = overlay_.try_emplace(key);
      if (made)
        list(i);
      return i;
    }
    if (auto i = overlay_.find(key); i != overlay_.end())
      return i;
    // Full: forget the keys without a value first, and if too few, spill.
    if (overlay_.size() >= overlay_limit_
        && forget_valueless() < std::max<size_t>(overlay_limit_ / 4, 1))
      spill();
    slot s;
    auto kb = key_bytes(key);
    env_->read([&](const lmdb_environment::transaction& txn) {
      std::optional<std::string_view> found = txn.get(spill_, kb);
      if (!found)
        txn.scan(pending_, kb, [&](std::string_view, std::string_view v) {
          found = v;
          return false;
        });
      if (found) {
        s.below = true;
        if ((*found)[0] == 1)
          s.value = decode_state<V>(found->data() + 1, found->size() - 1);
      } else if (auto stored = txn.get(completed_, kb)) {
        s.below = true;
        s.value = decode_state<V>(stored->data(), stored->size());
      }
    });
    auto i = overlay_.emplace(key, std::move(s)).first;
    if (!i->second.value)
      list(i);
    return i;
  }

  /// Lists the overlay entry `i` for the next checkpoint to visit.
  void list(typename overlay_map::iterator i) {
    if (!i->second.listed) {
      i->second.listed = true;
      listed_.push_back(i->first);
    }
  }

  /// Marks the overlay entry `i` changed since the last checkpoint.
  void mark_dirty(typename overlay_map::iterator i) {
    i->second.dirty = true;
    list(i);
  }

  /// Removes the value of the overlay entry `i`.
  void remove(typename overlay_map::iterator i) {
    --size_;
    i->second.value.reset();
    // With nothing below to hide the key needs no tombstone. The entry stays, listed, until
    // the next checkpoint or a full overlay forgets it: a key made and erased over and over is
    // listed once.
    i->second.dirty = i->second.below;
    list(i);
  }

  /// Forgets the overlay entries without a value that need no tombstone; returns how many.
  size_t forget_valueless() {
    auto before = overlay_.size();
    std::erase_if(listed_, [&](const K& key) {
      auto i = overlay_.find(key);
      if (i->second.value || i->second.dirty)
        return false;
      overlay_.erase(i);
      return true;
    });
    recent_valid_ = false;
    return before - overlay_.size();
  }

  /// Writes the dirty entries of the overlay to the spill and empties the overlay.
  void spill() {
    env_->write([&](lmdb_environment::transaction& txn) {
      for (const auto& [key, s] : overlay_)
        if (s.dirty)
          txn.put(spill_, key_bytes(key), flagged(s.value));
    });
    overlay_.clear();
    listed_.clear();
    recent_valid_ = false;
    stored_ = true;
  }

  /// A value as the spill and the pending changes hold it: byte 1 and the encoded value, or
  /// byte 0 for an erased key.
  static std::string flagged(const std::optional<V>& value) {
    std::string bytes(1, value ? char{1} : char{0});
    if (value) {
      auto encoded = encode_state(*value);
      bytes.append(encoded.begin(), encoded.end());
    }
    return bytes;
  }

  std::string key_bytes(const K& key) const {
    return lmdb_layout::stored_key(key_group_of(key, max_parallelism_), encode_state(key));
  }

  static K decode_key(std::string_view bytes) {
    auto encoded = lmdb_layout::encoded_key_of_stored(bytes);
    return decode_state<K>(encoded.data(), encoded.size());
  }

  lmdb_environment* env_;
  lmdb_environment::database completed_;
  lmdb_environment::database spill_;
  lmdb_environment::database pending_;
  uint32_t max_parallelism_;
  size_t overlay_limit_;
  size_t size_ = 0;
  uint64_t lookups_ = 0;
  /// Whether the databases may hold a key the overlay does not: keys were stored when the
  /// table opened, or the overlay spilled since. Until then every key this table ever wrote
  /// is in the overlay (checkpoints write only overlay entries), so a miss there is a miss.
  bool stored_ = false;
  overlay_map overlay_;
  /// The keys of the overlay entries the next checkpoint visits, so that it need not walk the
  /// overlay: those changed since the last one, and those without a value (which it forgets).
  /// Each key once, its entry `listed`.
  std::vector<K> listed_;
  /// The entry of the key used last, while it is valid (no entry erased or added since).
  typename overlay_map::iterator recent_;
  bool recent_valid_ = false;
};

} // namespace sluice
