#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <utility>

#include <caf/meta/type_name.hpp>

#include "sluice/operators/emitter.hpp"
#include "sluice/operators/keyed_context.hpp"
#include "sluice/state.hpp"
#include "sluice/tables/table_change.hpp"

namespace sluice::detail {

/// What a change of a grouped table does to one group: a row value leaves it (`subtract`),
/// joins it (`add`), or both when a row changes within its group.
template <class K, class V>
struct group_update {
  K group{};
  std::optional<V> subtract;
  std::optional<V> add;

  friend bool operator==(const group_update&, const group_update&) = default;
};

template <class Inspector, class K, class V>
typename Inspector::result_type inspect(Inspector& f, group_update<K, V>& x) {
  return f(caf::meta::type_name("sluice.group_update"), x.group, x.subtract, x.add);
}

/// Turns the changes of a table with rows (K, V) into updates of the groups `select(key, value)
/// -> std::pair<G, GV>` puts them in: a row that changes group leaves the old one (a subtract
/// there) and joins the new one (an add there), each group's update going to the instance that
/// owns the group (Kafka Streams' KTable.groupBy repartition).
template <class K, class V, class Select>
struct regroup {
  using grouped = std::invoke_result_t<const Select&, const K&, const V&>;
  using group_type = typename grouped::first_type;
  using value_type = typename grouped::second_type;
  using output_type = group_update<group_type, value_type>;

  void operator()(const table_change<K, V>& change, emitter<output_type>& out) const {
    std::optional<grouped> before, after;
    if (change.old_value)
      before = std::invoke(select, change.key, *change.old_value);
    if (change.new_value)
      after = std::invoke(select, change.key, *change.new_value);
    if (before && after && before->first == after->first) {
      out(
        output_type{std::move(after->first), std::move(before->second), std::move(after->second)});
      return;
    }
    if (before)
      out(output_type{std::move(before->first), std::move(before->second), std::nullopt});
    if (after)
      out(output_type{std::move(after->first), std::nullopt, std::move(after->second)});
  }

  Select select;
};

/// A group's accumulator and how many rows it holds.
template <class Acc>
struct group_state {
  Acc accumulator{};
  int64_t rows = 0;

  friend bool operator==(const group_state&, const group_state&) = default;
};

template <class Inspector, class Acc>
typename Inspector::result_type inspect(Inspector& f, group_state<Acc>& x) {
  return f(caf::meta::type_name("sluice.group_state"), x.accumulator, x.rows);
}

/// The keyed process function of `grouped_table::aggregate`: each group's accumulator, started
/// at `initial`, takes `add(acc&, value)` for a row that joins the group and
/// `subtract(acc&, value)` for one that leaves it (Kafka Streams' KGroupedTable.aggregate with
/// its adder and subtractor), kept in keyed state table "aggregate". A group that holds no row
/// any more is deleted (as in SQL); every change of a group's value goes out as a table_change.
template <class G, class GV, class Acc, class Add, class Subtract>
class group_aggregate_function {
public:
  group_aggregate_function(Acc initial, Add add, Subtract subtract)
    : initial_(std::move(initial)), add_(std::move(add)), subtract_(std::move(subtract)) {}

  void process(const group_update<G, GV>& update, keyed_context<G, table_change<G, Acc>>& ctx) {
    if (!groups_)
      groups_.emplace(ctx.template value<group_state<Acc>>("aggregate"));
    auto state = groups_->value_or(group_state<Acc>{initial_, 0});
    std::optional<Acc> before;
    if (state.rows > 0)
      before = state.accumulator;
    if (update.subtract) {
      std::invoke(subtract_, state.accumulator, *update.subtract);
      --state.rows;
    }
    if (update.add) {
      std::invoke(add_, state.accumulator, *update.add);
      ++state.rows;
    }
    std::optional<Acc> after;
    if (state.rows > 0) {
      after = state.accumulator;
      groups_->update(std::move(state));
    } else {
      groups_->clear();
    }
    emit_change(ctx.key(), std::move(before), std::move(after), ctx);
  }

private:
  Acc initial_;
  Add add_;
  Subtract subtract_;
  std::optional<value_state<G, group_state<Acc>>> groups_;
};

} // namespace sluice::detail
