#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <typeinfo>
#include <utility>
#include <vector>

#include "sluice/config.hpp"
#include "sluice/key_group.hpp"
#include "sluice/keyed_table.hpp"
#include "sluice/lmdb_environment.hpp"
#include "sluice/lmdb_layout.hpp"
#include "sluice/state_codec.hpp"

namespace sluice {

/// A read-only view of one operator instance's state in LMDB, for the console and for tools:
/// its tables, per-key reads, key scans with a limit, entry counts and bytes.
///
/// It shows the state as of the instance's last checkpoint (the completed entries with the
/// pending changes of the checkpoints taken since), never the changes being made between
/// checkpoints. It reads in LMDB read transactions, which never block the instance's writes,
/// and works on a live instance in this process (sharing its environment) as well as on the
/// state directory of a job that has ended.
class state_view {
public:
  /// A table of the instance.
  struct table_info {
    std::string name;
    /// The C++ type the table was written with (`keyed_table<K, V>`, as the compiler names it).
    std::string type;
    /// Entries as of the last checkpoint, and the bytes of the pages they use on disk.
    size_t entries = 0;
    uint64_t bytes = 0;
  };

  /// Views the state in `directory` (see instance_state_options for where instances keep it).
  /// @throws state_error naming the path if there is no state there or it cannot be opened.
  state_view(const std::string& directory, uint32_t max_parallelism = 128);

  /// Views instance `index` of operator `operator_name` in pipeline `pipeline`.
  state_view(const runtime_config& config, const std::string& pipeline,
             const std::string& operator_name, uint32_t index);

  /// The instance's tables (keyed state and operator state), by name.
  [[nodiscard]] std::vector<table_info> tables() const;

  /// The value of `key` in table `table`.
  /// @throws state_type_error if the table does not exist or was written with other types.
  template <class K, class V>
  [[nodiscard]] std::optional<V> get(const std::string& table, const K& key) const {
    check_type(table, typeid(keyed_table<K, V>).name());
    auto stored = lmdb_layout::stored_key(key_group_of(key, max_parallelism_), encode_state(key));
    auto bytes = find(table, stored);
    if (!bytes)
      return std::nullopt;
    return decode_state<V>(bytes->data(), bytes->size());
  }

  /// Up to `limit` entries of table `table`, in stored order (by key group, then key).
  /// @throws state_type_error as `get`.
  template <class K, class V>
  [[nodiscard]] std::vector<std::pair<K, V>> scan(const std::string& table, size_t limit) const {
    check_type(table, typeid(keyed_table<K, V>).name());
    std::vector<std::pair<K, V>> result;
    visit(table, limit, [&](std::string_view stored, std::string_view value) {
      auto key = lmdb_layout::encoded_key_of_stored(stored);
      result.emplace_back(decode_state<K>(key.data(), key.size()),
                          decode_state<V>(value.data(), value.size()));
    });
    return result;
  }

private:
  /// The type record of every table.
  [[nodiscard]] std::map<std::string, std::string> types() const;

  void check_type(const std::string& table, const std::string& type) const;

  /// The value bytes of a stored key, as of the last checkpoint.
  [[nodiscard]] std::optional<std::string> find(const std::string& table,
                                                const std::string& stored) const;

  /// Calls `fn(stored key, value)` for up to `limit` entries as of the last checkpoint, in
  /// stored key order.
  void visit(const std::string& table, size_t limit,
             const std::function<void(std::string_view, std::string_view)>& fn) const;

  std::shared_ptr<lmdb_environment> env_;
  uint32_t max_parallelism_;
};

} // namespace sluice
