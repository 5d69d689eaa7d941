#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <typeindex>
#include <unordered_map>
#include <utility>
#include <vector>

#include "sluice/key_group.hpp"

namespace sluice {

/// Thrown when an operator asks for keyed state under a name already used with other types.
class state_type_error : public std::logic_error {
public:
  using std::logic_error::logic_error;
};

/// Keyed state of one kind, for all keys an operator instance owns.
///
/// Contract: a table belongs to one operator instance and is used only from that instance's
/// handler calls (never from another thread). References returned by `find` and `upsert`
/// stay valid until the next call that modifies the table.
template <class K, class V>
class keyed_table {
public:
  virtual ~keyed_table() = default;

  /// The value of `key`, or null if it has none.
  [[nodiscard]] virtual const V* find(const K& key) = 0;

  /// The value of `key` for modification; a value-initialized V is inserted if absent.
  [[nodiscard]] virtual V& upsert(const K& key) = 0;

  /// Removes the value of `key`, if any.
  virtual void erase(const K& key) = 0;

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
    auto i = entries_.find(key);
    return i == entries_.end() ? nullptr : &i->second;
  }

  V& upsert(const K& key) override { return entries_[key]; }

  void erase(const K& key) override { entries_.erase(key); }

  size_t size() const override { return entries_.size(); }

  void for_each(const std::function<void(const K&, const V&)>& fn) const override {
    for (const auto& [k, v] : entries_)
      fn(k, v);
  }

private:
  struct hasher {
    size_t operator()(const K& key) const noexcept { return key_hash<K>{}(key); }
  };
  std::unordered_map<K, V, hasher> entries_;
};

/// All keyed state of one operator instance, by state name.
class state_store {
public:
  /// The table named `name` holding V per key K; created on first use.
  /// @throws state_type_error if `name` was registered with other key or value types.
  template <class K, class V>
  std::shared_ptr<keyed_table<K, V>> table(const std::string& name) {
    const std::type_index type = typeid(keyed_table<K, V>);
    auto i = tables_.find(name);
    if (i != tables_.end()) {
      if (i->second.type != type)
        throw state_type_error("keyed state '" + name + "' was registered with other key or "
                               "value types");
      return std::static_pointer_cast<keyed_table<K, V>>(i->second.table);
    }
    auto t = std::make_shared<memory_table<K, V>>();
    tables_.emplace(name, entry{type, t});
    return t;
  }

private:
  struct entry {
    std::type_index type;
    std::shared_ptr<void> table;
  };
  std::map<std::string, entry> tables_;
};

/// A single value per key.
template <class K, class V>
class value_state {
public:
  value_state(std::shared_ptr<keyed_table<K, V>> table, const K* const* key)
    : table_(std::move(table)), key_(key) {}

  /// The value of the current key, if set.
  [[nodiscard]] std::optional<V> value() const {
    if (auto* v = table_->find(**key_))
      return *v;
    return std::nullopt;
  }

  /// The value of the current key, or `fallback`.
  [[nodiscard]] V value_or(V fallback) const {
    auto* v = table_->find(**key_);
    return v ? *v : std::move(fallback);
  }

  void update(V value) { table_->upsert(**key_) = std::move(value); }

  void clear() { table_->erase(**key_); }

private:
  std::shared_ptr<keyed_table<K, V>> table_;
  const K* const* key_;
};

/// A list of values per key.
template <class K, class V>
class list_state {
public:
  list_state(std::shared_ptr<keyed_table<K, std::vector<V>>> table, const K* const* key)
    : table_(std::move(table)), key_(key) {}

  void add(V value) { table_->upsert(**key_).push_back(std::move(value)); }

  /// The list of the current key (empty if none).
  [[nodiscard]] std::vector<V> get() const {
    auto* v = table_->find(**key_);
    return v ? *v : std::vector<V>{};
  }

  void update(std::vector<V> values) { table_->upsert(**key_) = std::move(values); }

  void clear() { table_->erase(**key_); }

private:
  std::shared_ptr<keyed_table<K, std::vector<V>>> table_;
  const K* const* key_;
};

/// A map from user keys to user values per key.
template <class K, class UK, class UV>
class map_state {
public:
  using map_type = std::map<UK, UV>;

  map_state(std::shared_ptr<keyed_table<K, map_type>> table, const K* const* key)
    : table_(std::move(table)), key_(key) {}

  void put(UK user_key, UV value) {
    table_->upsert(**key_).insert_or_assign(std::move(user_key), std::move(value));
  }

  [[nodiscard]] std::optional<UV> get(const UK& user_key) const {
    if (auto* m = table_->find(**key_)) {
      auto i = m->find(user_key);
      if (i != m->end())
        return i->second;
    }
    return std::nullopt;
  }

  [[nodiscard]] bool contains(const UK& user_key) const { return get(user_key).has_value(); }

  void remove(const UK& user_key) {
    auto* m = table_->find(**key_);
    if (!m || !m->contains(user_key))
      return;
    auto& mm = table_->upsert(**key_);
    mm.erase(user_key);
    if (mm.empty())
      table_->erase(**key_);
  }

  /// All entries of the current key, ordered by user key.
  [[nodiscard]] map_type entries() const {
    auto* m = table_->find(**key_);
    return m ? *m : map_type{};
  }

  void clear() { table_->erase(**key_); }

private:
  std::shared_ptr<keyed_table<K, map_type>> table_;
  const K* const* key_;
};

/// A value per key that `add` folds new values into with a reduce function.
template <class K, class V>
class reducing_state {
public:
  using reduce_fn = std::function<V(const V&, const V&)>;

  reducing_state(std::shared_ptr<keyed_table<K, std::optional<V>>> table, const K* const* key,
                 reduce_fn fn)
    : table_(std::move(table)), key_(key), fn_(std::move(fn)) {}

  void add(V value) {
    auto& slot = table_->upsert(**key_);
    slot = slot ? fn_(*slot, value) : std::move(value);
  }

  [[nodiscard]] std::optional<V> get() const {
    auto* v = table_->find(**key_);
    return v ? *v : std::nullopt;
  }

  void clear() { table_->erase(**key_); }

private:
  std::shared_ptr<keyed_table<K, std::optional<V>>> table_;
  const K* const* key_;
  reduce_fn fn_;
};

/// An aggregate function as Flink's AggregateFunction: an accumulator created per key,
/// `add` folds an input in, `result` reads the output.
template <class Agg>
concept aggregate_function = requires(const Agg& agg) {
  typename Agg::input_type;
  typename Agg::accumulator_type;
  typename Agg::result_type;
  { agg.create() } -> std::convertible_to<typename Agg::accumulator_type>;
  requires requires(typename Agg::accumulator_type & acc, const typename Agg::input_type& in) {
    agg.add(acc, in);
    { agg.result(acc) } -> std::convertible_to<typename Agg::result_type>;
  };
};

/// An aggregate function that can also merge two accumulators (Flink's `merge`). Keyed
/// aggregations with one pre-aggregate before the shuffle and merge the partial results after
/// it, so in batch mode only one partial per key and upstream instance crosses the network.
template <class Agg>
concept mergeable_aggregate = aggregate_function<Agg> && requires(
  const Agg& agg, typename Agg::accumulator_type& acc, typename Agg::accumulator_type&& other) {
  agg.merge(acc, std::move(other));
};

/// A per-key accumulator fed by an aggregate function.
template <class K, aggregate_function Agg>
class aggregating_state {
public:
  using input_type = typename Agg::input_type;
  using accumulator_type = typename Agg::accumulator_type;
  using result_type = typename Agg::result_type;

  aggregating_state(std::shared_ptr<keyed_table<K, std::optional<accumulator_type>>> table,
                    const K* const* key, Agg agg)
    : table_(std::move(table)), key_(key), agg_(std::move(agg)) {}

  void add(const input_type& value) {
    auto& slot = table_->upsert(**key_);
    if (!slot)
      slot = agg_.create();
    agg_.add(*slot, value);
  }

  [[nodiscard]] std::optional<result_type> get() const {
    auto* acc = table_->find(**key_);
    if (!acc || !*acc)
      return std::nullopt;
    return agg_.result(**acc);
  }

  void clear() { table_->erase(**key_); }

private:
  std::shared_ptr<keyed_table<K, std::optional<accumulator_type>>> table_;
  const K* const* key_;
  Agg agg_;
};

} // namespace sluice
