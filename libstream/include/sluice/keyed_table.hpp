#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <stdexcept>

#include "sluice/detail/background_disposal.hpp"
#include "sluice/detail/key_map.hpp"
#include "sluice/error.hpp"
#include "sluice/key_group.hpp"

namespace sluice {

/// Thrown when an operator asks for keyed state under a name already used with other types.
class state_type_error : public failure {
public:
  explicit state_type_error(const std::string& message, std::string subject = {})
    : failure(errc::state, message, std::move(subject)) {}
};

/// What every keyed table is, whatever its types.
class keyed_table_base {
public:
  virtual ~keyed_table_base() = default;

  /// The instance is done with the table (it exits): frees what the table holds in memory on
  /// a background thread (see detail::dispose_in_background) and leaves it empty, not to be
  /// used again. What was not checkpointed is lost, as in a crash.
  virtual void release_memory() = 0;
};

/// What every keyed table with keys K offers, whatever its values.
template <class K>
class keyed_lookup : public keyed_table_base {
public:
  /// A hint that `key` is looked up soon: starts loading the memory its entry is in, so that
  /// the lookups of many records wait for memory together rather than one after another.
  /// Changes nothing.
  virtual void prefetch(const K& key) const = 0;

  /// How many lookups (`find`, `upsert`, `erase`, `modify`) the table has served: what tells
  /// a keyed operator whether prefetching its entries pays (keyed_context::prefetcher).
  [[nodiscard]] virtual uint64_t lookups() const noexcept = 0;
};

/// Keyed state of one kind, for all keys an operator instance owns.
///
/// Contract: a table belongs to one operator instance and is used only from that instance's
/// handler calls (never from another thread). A reference returned by `find` or `upsert`
/// stays valid until the next call on the table.
template <class K, class V>
class keyed_table : public keyed_lookup<K> {
public:
  /// The value of `key`, or null if it has none.
  [[nodiscard]] virtual const V* find(const K& key) = 0;

  /// The value of `key` for modification; a value-initialized V is inserted if absent.
  [[nodiscard]] virtual V& upsert(const K& key) = 0;

  /// Removes the value of `key`, if any.
  virtual void erase(const K& key) = 0;

  /// Calls `change(value)` on the value of `key`, if it has one, and removes the value if
  /// `change` returns true: a change that may leave nothing to keep, in one lookup. False if
  /// `key` has no value.
  virtual bool modify(const K& key, const std::function<bool(V&)>& change) = 0;

  /// Number of keys with a value.
  [[nodiscard]] virtual size_t size() const = 0;

  /// Calls `fn(key, value)` for every entry, in no particular order.
  virtual void for_each(const std::function<void(const K&, const V&)>& fn) const = 0;
};

/// The in-memory backend: a hash map per table.
template <class K, class V>
class memory_table final : public keyed_table<K, V> {
public:
  const V* find(const K& key) override {
    ++lookups_;
    auto i = entries_.find(key);
    return i == entries_.end() ? nullptr : &i->second;
  }

  V& upsert(const K& key) override {
    ++lookups_;
    return entries_.try_emplace(key).first->second;
  }

  void prefetch(const K& key) const override { entries_.prefetch(key); }

  uint64_t lookups() const noexcept override { return lookups_; }

  void erase(const K& key) override {
    ++lookups_;
    entries_.erase(key);
  }

  bool modify(const K& key, const std::function<bool(V&)>& change) override {
    ++lookups_;
    auto i = entries_.find(key);
    if (i == entries_.end())
      return false;
    if (change(i->second))
      entries_.erase(i);
    return true;
  }

  size_t size() const override { return entries_.size(); }

  void for_each(const std::function<void(const K&, const V&)>& fn) const override {
    for (const auto& [k, v] : entries_)
      fn(k, v);
  }

  void release_memory() override { detail::dispose_in_background(std::move(entries_)); }

private:
  detail::key_map<K, V, table_hash<K>> entries_;
  uint64_t lookups_ = 0;
};

} // namespace sluice
