#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include "sluice/operators/keyed_context.hpp"
#include "sluice/state.hpp"
#include "sluice/tables/table_change.hpp"

namespace sluice::detail {

/// The keyed two-input function of a stream–table join (Kafka Streams' KStream-KTable join):
/// the table's changes (second input) keep its current value per key (keyed state table
/// "table"); each record of the stream (first input) is joined with its key's value as the
/// record arrives, or in a left join emitted alone if the key has none. A change of the table
/// emits nothing.
template <class T, class K, class W, class Joiner>
class stream_table_lookup {
public:
  using output_type = typename Joiner::output_type;

  explicit stream_table_lookup(Joiner joiner) : joiner_(std::move(joiner)) {}

  void process_first(const T& record, keyed_context<K, output_type>& ctx) {
    if (auto value = table(ctx).value())
      ctx.emit(joiner_.both(record, *value));
    else if constexpr (Joiner::emits_lone_first)
      ctx.emit(joiner_.first_only(record));
  }

  void process_second(const table_change<K, W>& change, keyed_context<K, output_type>& ctx) {
    if (change.new_value)
      table(ctx).update(*change.new_value);
    else
      table(ctx).clear();
  }

private:
  value_state<K, W>& table(keyed_context<K, output_type>& ctx) {
    if (!table_)
      table_.emplace(ctx.template value<W>("table"));
    return *table_;
  }

  Joiner joiner_;
  std::optional<value_state<K, W>> table_;
};

} // namespace sluice::detail
