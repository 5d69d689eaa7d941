#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "sluice/config.hpp"
#include "sluice/key_group.hpp"
#include "sluice/state_view.hpp"

namespace sluice {

/// The contents of a changelog table read from outside the job (Kafka Streams' interactive
/// queries): the rows the operator that made the table with `to_table` keeps in its keyed state,
/// over all its instances, as of the last checkpoint (see state_view). A key is looked up in the
/// one instance that owns its key group; a scan visits them all.
template <class K, class V>
class table_view {
public:
  /// The table that operator `operator_name` (the name given to `to_table`'s table, "to_table"
  /// unless named) of `pipeline` makes with `parallelism` instances, under `config.state_dir`.
  /// @throws state_error naming the path of an instance whose state is not there.
  table_view(const runtime_config& config, const std::string& pipeline,
             const std::string& operator_name, uint32_t parallelism)
    : max_parallelism_(config.max_parallelism) {
    for (uint32_t i = 0; i < parallelism; ++i)
      instances_.emplace_back(config, pipeline, operator_name, i);
  }

  /// The row of `key`, if the table has one.
  /// @throws state_type_error if the table holds other types than K and V.
  [[nodiscard]] std::optional<V> get(const K& key) const {
    auto group = key_group_of(key, max_parallelism_);
    auto owner =
      instance_of_key_group(group, static_cast<uint32_t>(instances_.size()), max_parallelism_);
    return instances_[owner].template get<K, V>(contents, key);
  }

  /// Up to `limit` rows, instance after instance (each in stored order).
  /// @throws state_type_error as `get`.
  [[nodiscard]] std::vector<std::pair<K, V>> scan(size_t limit) const {
    std::vector<std::pair<K, V>> rows;
    for (const auto& instance : instances_) {
      if (rows.size() >= limit)
        break;
      auto more = instance.template scan<K, V>(contents, limit - rows.size());
      rows.insert(rows.end(), std::make_move_iterator(more.begin()),
                  std::make_move_iterator(more.end()));
    }
    return rows;
  }

private:
  /// The keyed state table of to_table's operator (detail::upsert_function).
  static constexpr const char* contents = "table";

  std::vector<state_view> instances_;
  uint32_t max_parallelism_;
};

} // namespace sluice
