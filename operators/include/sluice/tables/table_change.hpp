#pragma once

#include <concepts>
#include <optional>
#include <type_traits>

#include <caf/meta/type_name.hpp>

namespace sluice {

/// One change of a changelog table (Kafka Streams' Change with its key): the value `key` had
/// before (none: the key was not in the table, an insert) and has after (none: the key was
/// deleted). An update carries both, so what follows can retract the old value.
template <class K, class V>
struct table_change {
  K key{};
  std::optional<V> old_value;
  std::optional<V> new_value;

  friend bool operator==(const table_change&, const table_change&) = default;
};

template <class Inspector, class K, class V>
typename Inspector::result_type inspect(Inspector& f, table_change<K, V>& x) {
  return f(caf::meta::type_name("sluice.table_change"), x.key, x.old_value, x.new_value);
}

} // namespace sluice

namespace sluice::detail {

/// A std::optional of some value type.
template <class T>
concept optional_value = requires {
  typename T::value_type;
}
&&std::is_same_v<std::decay_t<T>, std::optional<typename std::decay_t<T>::value_type>>;

/// Emits `table_change{key, old, new}` through `ctx` unless it changes nothing: both values
/// absent, or (for values that compare) equal. What every table operator emits through.
template <class K, class V, class Context>
void emit_change(const K& key, std::optional<V> old_value, std::optional<V> new_value,
                 Context& ctx) {
  if (!old_value && !new_value)
    return;
  if constexpr (std::equality_comparable<V>)
    if (old_value == new_value)
      return;
  ctx.emit(table_change<K, V>{key, std::move(old_value), std::move(new_value)});
}

} // namespace sluice::detail
