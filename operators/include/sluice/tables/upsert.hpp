#pragma once

#include <functional>
#include <optional>
#include <utility>

#include "sluice/operators/keyed_context.hpp"
#include "sluice/state.hpp"
#include "sluice/tables/table_change.hpp"

namespace sluice::detail {

/// The keyed process function of `to_table`: each record upserts its key's value, which
/// `value(record)` gives (none: a tombstone, which deletes the key), kept in keyed state table
/// "table"; every record goes out as a table_change, also one that sets the value the key had
/// (a temporal join sees the value from the record's time on), but not a tombstone of a key
/// without a value.
template <class T, class K, class V, class ValueFn>
class upsert_function {
public:
  explicit upsert_function(ValueFn value) : value_(std::move(value)) {}

  void process(const T& record, keyed_context<K, table_change<K, V>>& ctx) {
    if (!table_)
      table_.emplace(ctx.template value<V>("table"));
    std::optional<V> new_value = std::invoke(value_, record);
    auto old_value = table_->value();
    if (new_value)
      table_->update(*new_value);
    else
      table_->clear();
    if (old_value || new_value)
      ctx.emit(table_change<K, V>{ctx.key(), std::move(old_value), std::move(new_value)});
  }

private:
  ValueFn value_;
  std::optional<value_state<K, V>> table_;
};

} // namespace sluice::detail
