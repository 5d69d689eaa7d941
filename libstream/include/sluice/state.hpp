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

#include <boost/container/small_vector.hpp>

#include "sluice/config.hpp"
#include "sluice/detail/pending_times.hpp"
#include "sluice/detail/timer_service.hpp"
#include "sluice/detail/timer_spill.hpp"
#include "sluice/key_group.hpp"
#include "sluice/keyed_table.hpp"
#include "sluice/lmdb_environment.hpp"
#include "sluice/lmdb_table.hpp"
#include "sluice/record.hpp"
#include "sluice/state_codec.hpp"
#include "sluice/state_ttl.hpp"

namespace sluice {

/// How an operator instance keeps its keyed state.
struct state_options {
  state_backend backend = state_backend::memory;
  /// The instance's LMDB environment (the LMDB backend only; created on first use).
  std::string directory;
  /// Key groups of the pipeline, the prefix of every stored key.
  uint32_t max_parallelism = 128;
  /// Entries per table held in memory before dirty ones spill to disk (LMDB backend).
  size_t overlay_entries = size_t{1} << 20;
  /// The completed checkpoint to restore the LMDB state to; empty: the last one this instance
  /// was told of (`state_store::complete`).
  std::optional<uint64_t> restore_checkpoint;
};

/// The state options of instance `index` of operator `operator_name` in pipeline `pipeline`:
/// its directory is `<state_dir>/<pipeline>/<operator_name>-<index>`, with every character
/// of the names other than letters, digits and `-_.#` replaced by `_`.
state_options instance_state_options(const runtime_config& config, const std::string& pipeline,
                                     const std::string& operator_name, uint32_t index,
                                     std::optional<uint64_t> restore_checkpoint = std::nullopt);

/// The directory of pipeline `pipeline`'s state: `<state_dir>/<pipeline>`.
std::string pipeline_state_directory(const runtime_config& config, const std::string& pipeline);

/// Operator state (Flink's operator list state): a list of values kept per instance, not per
/// key. When a pipeline restarts with another parallelism, the entries of all old instances
/// are dealt out round-robin to the new ones (`state_store::operator_list`; sources keep their
/// splits so), or every new instance gets all of them (`state_store::union_list`; file sinks
/// keep their files so).
template <class V>
class operator_list_state {
public:
  explicit operator_list_state(std::shared_ptr<keyed_table<uint32_t, V>> table)
    : table_(std::move(table)) {}

  [[nodiscard]] std::vector<V> get() const {
    std::vector<V> values;
    for (uint32_t i = 0; const auto* v = table_->find(i); ++i)
      values.push_back(*v);
    return values;
  }

  void update(const std::vector<V>& values) {
    auto old_size = table_->size();
    for (uint32_t i = 0; i < values.size(); ++i)
      table_->upsert(i) = values[i];
    for (auto i = static_cast<uint32_t>(values.size()); i < old_size; ++i)
      table_->erase(i);
  }

private:
  std::shared_ptr<keyed_table<uint32_t, V>> table_;
};

/// All keyed and operator state of one operator instance, by state name.
class state_store {
public:
  state_store() = default;
  explicit state_store(state_options options);
  ~state_store();

  state_store(const state_store&) = delete;
  state_store& operator=(const state_store&) = delete;

  /// The table named `name` holding V per key K; created on first use.
  /// @throws state_type_error if `name` was registered with other key or value types (in this
  /// run, or in the LMDB environment by an earlier one), or if the LMDB backend cannot store
  /// them.
  /// @throws state_error if the LMDB environment cannot be opened.
  template <class K, class V>
  std::shared_ptr<keyed_table<K, V>> table(const std::string& name) {
    for (auto reserved : {lmdb_layout::operator_state_prefix, lmdb_layout::timer_state_prefix})
      if (name.starts_with(reserved))
        throw state_type_error("keyed state '" + name + "': names starting with '"
                                 + std::string{reserved} + "' are reserved",
                               name);
    return open_table<K, V>(name);
  }

  /// The timers of time domain `domain` (see detail::timer_service). Their table is keyed
  /// state under a reserved name, brought up to date before each checkpoint; with the LMDB
  /// backend, the time order of more timers than `overlay_entries` spills to the instance's
  /// environment. @throws as `table`.
  template <class K>
  std::shared_ptr<detail::timer_service<K>> timers(const std::string& domain) {
    auto name = std::string{lmdb_layout::timer_state_prefix} + domain;
    auto table = open_table<K, detail::pending_times>(name);
    std::shared_ptr<detail::timer_service<K>> service;
    if constexpr (storable<K>)
      if (options_.backend == state_backend::lmdb)
        service = std::make_shared<detail::timer_service<K>>(
          std::move(table),
          std::make_unique<detail::timer_spill>(environment(), lmdb_layout::order_database(name)),
          options_.overlay_entries);
    if (!service)
      service = std::make_shared<detail::timer_service<K>>(std::move(table));
    before_checkpoint_.push_back([weak = std::weak_ptr{service}] {
      if (auto s = weak.lock())
        s->persist();
    });
    return service;
  }

  /// The table named `name` whose entries expire by event time (see ttl_table); `clock` is the
  /// instance's event-time clock. Without a TTL, the plain table.
  /// @throws as `table`, and state_type_error if `name` was registered with another TTL.
  template <class K, class V>
  std::shared_ptr<keyed_table<K, V>> table(const std::string& name, state_ttl ttl,
                                           typename ttl_table<K, V>::clock_fn clock) {
    if (!ttl)
      return table<K, V>(name);
    if (auto i = ttl_tables_.find(name); i != ttl_tables_.end()) {
      auto existing = std::dynamic_pointer_cast<ttl_table<K, V>>(i->second);
      if (!existing)
        throw state_type_error("keyed state '" + name + "' was registered with other key or "
                               "value types",
                               name);
      if (existing->ttl() != ttl.ttl)
        throw state_type_error("keyed state '" + name + "' was registered with another TTL", name);
      return existing;
    }
    auto t =
      std::make_shared<ttl_table<K, V>>(table<K, timed_value<V>>(name), ttl, std::move(clock));
    ttl_tables_.emplace(name, t);
    before_checkpoint_.push_back([t] { t->sweep_if_due(); });
    return t;
  }

  /// The operator state `name` of this instance, dealt out round-robin when rescaled (see
  /// operator_list_state). @throws as `table`.
  template <class V>
  operator_list_state<V> operator_list(const std::string& name) {
    return operator_list_state<V>{
      open_table<uint32_t, V>(std::string{lmdb_layout::operator_state_prefix} + name)};
  }

  /// The operator state `name` of this instance, whole at every instance when rescaled (see
  /// operator_list_state). @throws as `table`.
  template <class V>
  operator_list_state<V> union_list(const std::string& name) {
    return operator_list_state<V>{
      open_table<uint32_t, V>(std::string{lmdb_layout::union_state_prefix} + name)};
  }

  /// Takes checkpoint `id`: the changes of every table since the last checkpoint become the
  /// pending changes of `id`, in one durable transaction (the LMDB backend; the memory backend
  /// keeps nothing). Returns the bytes of state written.
  uint64_t checkpoint(uint64_t id);

  /// Checkpoint `id` completed (every instance took it): applies the pending changes up to
  /// `id`, in one durable transaction. A restarted instance restores to the last one.
  void complete(uint64_t id);

  /// The instance exits: frees what every table holds in memory on a background thread
  /// (keyed_table_base::release_memory). The tables are not to be used again.
  void release_memory();

  /// The last completed checkpoint of this instance's state (0: none).
  [[nodiscard]] uint64_t completed_checkpoint();

private:
  struct entry {
    std::type_index type;
    std::shared_ptr<keyed_table_base> table;
  };

  template <class K, class V>
  std::shared_ptr<keyed_table<K, V>> open_table(const std::string& name) {
    const std::type_index type = typeid(keyed_table<K, V>);
    auto i = tables_.find(name);
    if (i != tables_.end()) {
      if (i->second.type != type)
        throw state_type_error("keyed state '" + name + "' was registered with other key or "
                               "value types",
                               name);
      return std::static_pointer_cast<keyed_table<K, V>>(i->second.table);
    }
    std::shared_ptr<keyed_table<K, V>> t;
    if (options_.backend == state_backend::memory) {
      t = std::make_shared<memory_table<K, V>>();
    } else if constexpr (storable<K> && storable<V>) {
      check_stored_type(name, type.name());
      auto lt = std::make_shared<lmdb_table<K, V>>(environment(), name, options_.max_parallelism,
                                                   options_.overlay_entries, restore_point());
      lmdb_tables_.push_back(lt.get());
      t = std::move(lt);
    } else {
      throw state_type_error("keyed state '" + name + "' cannot be stored in LMDB: give its key "
                             "and value types an inspect() overload (or sluice_encode and "
                             "sluice_decode), or use the memory state backend",
                             name);
    }
    tables_.emplace(name, entry{type, t});
    return t;
  }

  lmdb_environment& environment();

  /// The completed checkpoint tables restore to when they open.
  uint64_t restore_point();

  /// Records the type of table `name` in the environment, or checks it against the record.
  void check_stored_type(const std::string& name, const std::string& type);

  state_options options_;
  std::shared_ptr<lmdb_environment> env_;
  lmdb_environment::database meta_ = 0;
  std::map<std::string, entry> tables_;
  /// The TTL views of tables.
  std::map<std::string, std::shared_ptr<keyed_table_base>> ttl_tables_;
  /// What runs before each checkpoint: the sweeps of the TTL views, the timers' `persist`.
  std::vector<std::function<void()>> before_checkpoint_;
  std::vector<lmdb_table_base*> lmdb_tables_;
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

/// How many values of type V a key's list holds in place: 16 bytes' worth, at least one.
template <class V>
inline constexpr size_t list_values_in_place = sizeof(V) < 16 ? 16 / sizeof(V) : 1;

/// The values of one key of a list_state, as its table holds them: a vector that keeps its
/// first few values in place, so that the many keys of a keyed operator with a short list each
/// (records that wait for their key's first value, a window's few elements) cost no
/// allocation.
template <class V>
using list_values = boost::container::small_vector<V, list_values_in_place<V>>;

/// A list of values per key.
template <class K, class V>
class list_state {
public:
  list_state(std::shared_ptr<keyed_table<K, list_values<V>>> table, const K* const* key)
    : table_(std::move(table)), key_(key) {}

  void add(V value) { table_->upsert(**key_).push_back(std::move(value)); }

  /// A copy of the list of the current key (empty if none).
  [[nodiscard]] std::vector<V> get() const {
    auto* v = table_->find(**key_);
    return v ? std::vector<V>(v->begin(), v->end()) : std::vector<V>{};
  }

  /// The list of the current key, which is then removed (empty if none): `get` and `clear`
  /// in one, without copying the list.
  [[nodiscard]] list_values<V> take() {
    if (!table_->find(**key_))
      return {};
    auto values = std::move(table_->upsert(**key_));
    table_->erase(**key_);
    return values;
  }

  void update(const std::vector<V>& values) {
    table_->upsert(**key_).assign(values.begin(), values.end());
  }

  void clear() { table_->erase(**key_); }

private:
  std::shared_ptr<keyed_table<K, list_values<V>>> table_;
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
