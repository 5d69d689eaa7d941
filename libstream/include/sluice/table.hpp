#pragma once

#include <functional>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>

#include "sluice/joins/joiner.hpp"
#include "sluice/operators/emitter.hpp"
#include "sluice/pipeline.hpp"
#include "sluice/tables/foreign_key_join.hpp"
#include "sluice/tables/group_aggregate.hpp"
#include "sluice/tables/table_change.hpp"
#include "sluice/tables/table_join.hpp"

namespace sluice {

template <class G, class GV>
class grouped_table;

/// A changelog table (Kafka Streams' KTable): a value per key that changes over time, carried as
/// a stream of `table_change<K, V>`, each with the key's value before and after, so every
/// operation downstream can retract what an old value contributed. A table comes from
/// `key_by(...).to_table()`; the operator that made it keeps its current contents in keyed
/// state. See docs/tables.md.
template <class K, class V>
class table {
public:
  using change_type = table_change<K, V>;

  /// The table's changelog (Kafka Streams' KTable.toStream): inserts (no old value), updates
  /// (both), deletes (no new value).
  [[nodiscard]] stream<change_type> to_stream() const { return changes_; }

  /// The rows for which `keep(const K&, const V&)` is true: a row that stops passing is deleted
  /// from the result, one that starts passing is inserted.
  template <class F>
  table filter(F keep) {
    static_assert(std::is_invocable_r_v<bool, F&, const K&, const V&>,
                  "table filter expects fn(const K&, const V&) -> bool");
    auto passing = [keep](const std::optional<V>& v, const K& key) {
      return v && std::invoke(keep, key, *v) ? v : std::nullopt;
    };
    return derive<V>(
      [passing](const change_type& c, emitter<change_type>& out) {
        auto before = passing(c.old_value, c.key);
        auto after = passing(c.new_value, c.key);
        if (before || after)
          out(change_type{c.key, std::move(before), std::move(after)});
      },
      "filter");
  }

  /// Each row's value mapped by `fn(const V&) -> U`.
  template <class F>
  auto map_values(F fn) {
    static_assert(std::is_invocable_v<F&, const V&>, "map_values expects fn(const V&) -> U");
    using U = std::decay_t<std::invoke_result_t<F&, const V&>>;
    return derive<U>(
      [fn](const change_type& c, emitter<table_change<K, U>>& out) {
        std::optional<U> before, after;
        if (c.old_value)
          before = std::invoke(fn, *c.old_value);
        if (c.new_value)
          after = std::invoke(fn, *c.new_value);
        out(table_change<K, U>{c.key, std::move(before), std::move(after)});
      },
      "map_values");
  }

  /// Groups the rows by `select(const K&, const V&) -> std::pair<G, GV>` (a group and the value
  /// the row gives it) for an aggregation per group, where a row that moves to another group is
  /// subtracted from the old one (Kafka Streams' KTable.groupBy).
  template <class F>
  auto group_by(F select) {
    static_assert(std::is_invocable_v<const F&, const K&, const V&>,
                  "group_by expects fn(const K&, const V&) -> std::pair<G, GV>");
    using regroup = detail::regroup<K, V, F>;
    using update = typename regroup::output_type;
    auto updates = changes_.template flat_map<update>(regroup{std::move(select)});
    updates.default_name("group_by");
    return grouped_table<typename regroup::group_type, typename regroup::value_type>{
      updates.key_by(&update::group)};
  }

  /// The join with `other` on the key: a row for each key in both (Kafka Streams'
  /// KTable.join), its value `fn(const V&, const W&)`; a change on either side updates it.
  template <class W, class F>
  auto join(const table<K, W>& other, F fn) {
    static_assert(detail::join_function<F, join_kind::inner, V, W>,
                  "table join expects fn(const V&, const W&) -> R");
    return join_with<join_kind::inner>(other, std::move(fn));
  }

  /// The join with `other` keeping every row of this table: `fn(const V&, const W*)`, null
  /// where `other` has no row (Kafka Streams' KTable.leftJoin).
  template <class W, class F>
  auto left_join(const table<K, W>& other, F fn) {
    static_assert(detail::join_function<F, join_kind::left, V, W>,
                  "table left_join expects fn(const V&, const W*) -> R (null: no row)");
    return join_with<join_kind::left>(other, std::move(fn));
  }

  /// The join keeping every row of both: `fn(const V*, const W*)`, null for the side without
  /// a row (Kafka Streams' KTable.outerJoin).
  template <class W, class F>
  auto full_join(const table<K, W>& other, F fn) {
    static_assert(detail::join_function<F, join_kind::full, V, W>,
                  "table full_join expects fn(const V*, const W*) -> R (null: no row)");
    return join_with<join_kind::full>(other, std::move(fn));
  }

  /// The join with the rows of `other` that `foreign_key(const V&) -> KR` names: a row per row
  /// of this table whose foreign key is in `other`, its value `fn(const V&, const W&)`; a change
  /// of either row updates it, a change of the foreign key moves it (Kafka Streams' foreign-key
  /// KTable.join).
  template <class KR, class W, class ForeignKey, class F>
  auto join(const table<KR, W>& other, ForeignKey foreign_key, F fn) {
    static_assert(std::is_invocable_r_v<KR, ForeignKey&, const V&>,
                  "foreign-key join expects foreign_key(const V&) -> KR, the other table's key");
    static_assert(detail::join_function<F, join_kind::inner, V, W>,
                  "foreign-key join expects fn(const V&, const W&) -> R");
    return foreign_key_join<join_kind::inner>(other, std::move(foreign_key), std::move(fn));
  }

  /// As the foreign-key join, keeping every row of this table: `fn(const V&, const W*)`, null
  /// where `other` has no row of that key (Kafka Streams' foreign-key KTable.leftJoin).
  template <class KR, class W, class ForeignKey, class F>
  auto left_join(const table<KR, W>& other, ForeignKey foreign_key, F fn) {
    static_assert(std::is_invocable_r_v<KR, ForeignKey&, const V&>,
                  "foreign-key left_join expects foreign_key(const V&) -> KR, the other table's "
                  "key");
    static_assert(detail::join_function<F, join_kind::left, V, W>,
                  "foreign-key left_join expects fn(const V&, const W*) -> R (null: no row)");
    return foreign_key_join<join_kind::left>(other, std::move(foreign_key), std::move(fn));
  }

  /// Names the operator that makes this table (for errors, metrics and state).
  table& name(std::string n) {
    changes_.name(std::move(n));
    return *this;
  }

  /// How the supervisor of the operator that makes this table restarts its failed instances.
  table& supervision(const sluice::supervision& s) {
    changes_.supervision(s);
    return *this;
  }

  /// Sets the number of instances of the operator that makes this table.
  table& parallelism(uint32_t n) {
    changes_.parallelism(n);
    return *this;
  }

private:
  template <class T, class KeyFn>
  friend class keyed_stream;
  template <class KK, class VV>
  friend class table;
  template <class G, class GV>
  friend class grouped_table;

  explicit table(stream<change_type> changes) : changes_(std::move(changes)) {}

  /// A table whose changes `fn(change, emitter)` derives from this one's, row by row.
  template <class U, class F>
  table<K, U> derive(F fn, std::string what) {
    auto derived = changes_.template flat_map<table_change<K, U>>(std::move(fn));
    derived.default_name(what);
    return table<K, U>{derived};
  }

  template <join_kind Kind, class W, class F>
  auto join_with(const table<K, W>& other, F fn) {
    using joiner = detail::joiner<Kind, V, W, F>;
    using function = detail::table_join_function<K, V, W, joiner>;
    auto other_changes = other.changes_;
    auto joined =
      changes_.key_by(&change_type::key)
        .connect(other_changes.key_by(&table_change<K, W>::key))
        .template process<typename function::output_type>(function{joiner{std::move(fn)}});
    joined.default_name("join");
    return table<K, typename joiner::output_type>{joined};
  }

  /// The three stages of a foreign-key join (see tables/foreign_key_join.hpp).
  template <join_kind Kind, class KR, class W, class ForeignKey, class F>
  auto foreign_key_join(const table<KR, W>& other, ForeignKey foreign_key, F fn) {
    using subscription = detail::fk_subscription<K, KR, V>;
    using answer = detail::fk_answer<K, V, W>;
    using joiner = detail::joiner<Kind, V, W, F>;
    using result = detail::fk_result_function<K, V, W, joiner>;
    auto subscriptions = changes_.key_by(&change_type::key)
                           .template process<subscription>(
                             detail::fk_subscribe<K, V, KR, ForeignKey>{std::move(foreign_key)});
    auto other_changes = other.changes_;
    auto answers = other_changes.key_by(&table_change<KR, W>::key)
                     .connect(subscriptions.key_by(&subscription::foreign_key))
                     .template process<answer>(detail::fk_lookup<K, V, KR, W>{});
    auto joined = answers.key_by(&answer::key)
                    .template process<typename result::output_type>(result{joiner{std::move(fn)}});
    joined.default_name("join");
    // The inner stages are part of the join: named after it, supervised like it, at the
    // parallelism of the left table.
    auto join_node = joined.heads_[0];
    subscriptions.mark_added(changes_.heads_[0], join_node, "subscribe");
    answers.mark_added(subscriptions.heads_[0], join_node, "lookup");
    return table<K, typename joiner::output_type>{joined};
  }

  stream<change_type> changes_;
};

/// A table's rows grouped by a new key (returned by table::group_by), for an aggregation per
/// group.
template <class G, class GV>
class grouped_table {
public:
  /// Aggregates each group (Kafka Streams' KGroupedTable.aggregate): its accumulator starts as
  /// `initial`, `add(Acc&, const GV&)` folds in a row that joins the group, `subtract(Acc&,
  /// const GV&)` takes out one that leaves it (or changes: its old value leaves, its new one
  /// joins). A table of the accumulator per group; a group that holds no row is deleted.
  template <class Acc, class Add, class Subtract>
  table<G, Acc> aggregate(Acc initial, Add add, Subtract subtract) {
    static_assert(std::is_invocable_v<Add&, Acc&, const GV&>,
                  "aggregate expects add(Acc&, const GV&)");
    static_assert(std::is_invocable_v<Subtract&, Acc&, const GV&>,
                  "aggregate expects subtract(Acc&, const GV&)");
    using function = detail::group_aggregate_function<G, GV, Acc, Add, Subtract>;
    auto aggregated = updates_.template process<table_change<G, Acc>>(
      function{std::move(initial), std::move(add), std::move(subtract)});
    aggregated.default_name("aggregate");
    return table<G, Acc>{aggregated};
  }

  /// The number of rows per group (Kafka Streams' KGroupedTable.count).
  table<G, int64_t> count() {
    return aggregate(
      int64_t{0}, [](int64_t& n, const GV&) { ++n; }, [](int64_t& n, const GV&) { --n; });
  }

private:
  template <class K, class V>
  friend class table;

  using update = detail::group_update<G, GV>;
  using keyed_updates = keyed_stream<update, G update::*>;

  explicit grouped_table(keyed_updates updates) : updates_(std::move(updates)) {}

  keyed_updates updates_;
};

} // namespace sluice
