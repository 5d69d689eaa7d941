#pragma once

#include <optional>
#include <utility>

#include <caf/meta/type_name.hpp>

#include "sluice/joins/joiner.hpp"
#include "sluice/operators/keyed_context.hpp"
#include "sluice/state.hpp"
#include "sluice/tables/table_change.hpp"

namespace sluice::detail {

/// The current values of one key in both tables of a join.
template <class V, class W>
struct join_row {
  std::optional<V> left;
  std::optional<W> right;

  friend bool operator==(const join_row&, const join_row&) = default;
};

template <class Inspector, class V, class W>
typename Inspector::result_type inspect(Inspector& f, join_row<V, W>& x) {
  return f(caf::meta::type_name("sluice.join_row"), x.left, x.right);
}

/// The keyed two-input function of a table-table join (Kafka Streams' KTable-KTable join): it
/// keeps the current value of each key in both tables (keyed state table "join"), and a change
/// on either side emits the joined value's change: the new result and the old one it retracts.
/// A key without a result on either side's change (an inner join with one side missing) is
/// deleted from the joined table; a key in neither table leaves no state.
template <class K, class V, class W, class Joiner>
class table_join_function {
public:
  using result_type = typename Joiner::output_type;
  using output_type = table_change<K, result_type>;

  explicit table_join_function(Joiner joiner) : joiner_(std::move(joiner)) {}

  void process_first(const table_change<K, V>& change, keyed_context<K, output_type>& ctx) {
    apply(ctx, [&](join_row<V, W>& row) { row.left = change.new_value; });
  }

  void process_second(const table_change<K, W>& change, keyed_context<K, output_type>& ctx) {
    apply(ctx, [&](join_row<V, W>& row) { row.right = change.new_value; });
  }

private:
  template <class Change>
  void apply(keyed_context<K, output_type>& ctx, Change change) {
    if (!rows_)
      rows_.emplace(ctx.template value<join_row<V, W>>("join"));
    auto row = rows_->value_or({});
    auto before = result(row);
    change(row);
    auto after = result(row);
    if (row.left || row.right)
      rows_->update(std::move(row));
    else
      rows_->clear();
    emit_change(ctx.key(), std::move(before), std::move(after), ctx);
  }

  /// The joined value of a row, if the join's kind gives one.
  std::optional<result_type> result(const join_row<V, W>& row) {
    if (row.left && row.right)
      return joiner_.both(*row.left, *row.right);
    if constexpr (Joiner::emits_lone_first)
      if (row.left)
        return joiner_.first_only(*row.left);
    if constexpr (Joiner::emits_lone_second)
      if (row.right)
        return joiner_.second_only(*row.right);
    return std::nullopt;
  }

  Joiner joiner_;
  std::optional<value_state<K, join_row<V, W>>> rows_;
};

} // namespace sluice::detail
