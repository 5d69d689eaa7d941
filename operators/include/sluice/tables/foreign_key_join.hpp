#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <utility>

#include <caf/meta/type_name.hpp>

#include "sluice/operators/keyed_context.hpp"
#include "sluice/state.hpp"
#include "sluice/tables/table_change.hpp"

// A foreign-key join of a table (K, V) with a table (KR, W), where `foreign_key(const V&) -> KR`
// names the row of the right table a left row joins (Kafka Streams' KTable-KTable foreign-key
// join, KIP-213). Three keyed stages:
//
//   left changes --(by K)--> subscribe --(by KR)--> lookup <--(by KR)-- right changes
//                                                    |
//                            result <--(by K)--------+  responses
//
// `subscribe` numbers each change of a left row (a version per key) and sends the row to the
// right row it names (and an unsubscription to the one it named before); `lookup` keeps each
// right row with the left rows subscribed to it and answers every subscription and every change
// of the right row with both values; `result` keeps, per left key, the version it answered last
// and the joined value, and ignores answers older than that: the answers of one left row travel
// on different channels once its foreign key changed, and may overtake each other.

namespace sluice::detail {

/// A left row's message to the right row it names (or named).
template <class K, class KR, class V>
struct fk_subscription {
  KR foreign_key{};
  K key{};
  /// The number of the left row's change that sent it.
  uint64_t version = 0;
  /// The left row's value; none: the row no longer names this right row.
  std::optional<V> value;
  /// Whether the right row answers: every change of a left row gets exactly one answer, from
  /// the right row it names, or if it was deleted, from the one it named.
  bool answer = true;

  friend bool operator==(const fk_subscription&, const fk_subscription&) = default;
};

template <class Inspector, class K, class KR, class V>
typename Inspector::result_type inspect(Inspector& f, fk_subscription<K, KR, V>& x) {
  return f(caf::meta::type_name("sluice.fk_subscription"), x.foreign_key, x.key, x.version, x.value,
           x.answer);
}

/// A right row's answer to a left row: both values as the right row saw them.
template <class K, class V, class W>
struct fk_answer {
  K key{};
  uint64_t version = 0;
  std::optional<V> left;
  std::optional<W> right;

  friend bool operator==(const fk_answer&, const fk_answer&) = default;
};

template <class Inspector, class K, class V, class W>
typename Inspector::result_type inspect(Inspector& f, fk_answer<K, V, W>& x) {
  return f(caf::meta::type_name("sluice.fk_answer"), x.key, x.version, x.left, x.right);
}

/// The `subscribe` stage: keyed by the left key, with the version of each left row (keyed
/// state table "foreign_key_versions").
template <class K, class V, class KR, class ForeignKey>
class fk_subscribe {
public:
  using output_type = fk_subscription<K, KR, V>;

  explicit fk_subscribe(ForeignKey foreign_key) : foreign_key_(std::move(foreign_key)) {}

  void process(const table_change<K, V>& change, keyed_context<K, output_type>& ctx) {
    if (!versions_)
      versions_.emplace(ctx.template value<uint64_t>("foreign_key_versions"));
    auto version = versions_->value_or(0) + 1;
    versions_->update(version);
    std::optional<KR> before, after;
    if (change.old_value)
      before = std::invoke(foreign_key_, *change.old_value);
    if (change.new_value)
      after = std::invoke(foreign_key_, *change.new_value);
    if (before && before != after)
      ctx.emit(output_type{*before, change.key, version, std::nullopt, !after});
    if (after)
      ctx.emit(output_type{*after, change.key, version, change.new_value, true});
  }

private:
  ForeignKey foreign_key_;
  std::optional<value_state<K, uint64_t>> versions_;
};

/// A right row and the left rows that name it, by left key: their version and value.
template <class K, class V, class W>
struct fk_right_row {
  std::optional<W> value;
  std::map<K, std::pair<uint64_t, V>> subscribers;

  friend bool operator==(const fk_right_row&, const fk_right_row&) = default;
};

template <class Inspector, class K, class V, class W>
typename Inspector::result_type inspect(Inspector& f, fk_right_row<K, V, W>& x) {
  return f(caf::meta::type_name("sluice.fk_right_row"), x.value, x.subscribers);
}

/// The `lookup` stage: keyed by the right key, reading the right table's changes (first input)
/// and the subscriptions (second), with each right row and its subscribers in keyed state table
/// "foreign_key_rows".
template <class K, class V, class KR, class W>
class fk_lookup {
public:
  using output_type = fk_answer<K, V, W>;
  using row_type = fk_right_row<K, V, W>;

  void process_first(const table_change<KR, W>& change, keyed_context<KR, output_type>& ctx) {
    update(ctx, [&](row_type& row) {
      row.value = change.new_value;
      for (const auto& [key, subscriber] : row.subscribers)
        ctx.emit(output_type{key, subscriber.first, subscriber.second, row.value});
    });
  }

  void process_second(const fk_subscription<K, KR, V>& s, keyed_context<KR, output_type>& ctx) {
    update(ctx, [&](row_type& row) {
      if (s.value) {
        row.subscribers.insert_or_assign(s.key, std::pair{s.version, *s.value});
        ctx.emit(output_type{s.key, s.version, s.value, row.value});
        return;
      }
      auto i = row.subscribers.find(s.key);
      if (i != row.subscribers.end() && i->second.first < s.version)
        row.subscribers.erase(i);
      if (s.answer)
        ctx.emit(output_type{s.key, s.version, std::nullopt, std::nullopt});
    });
  }

private:
  template <class Change>
  void update(keyed_context<KR, output_type>& ctx, Change change) {
    if (!rows_)
      rows_.emplace(ctx.template value<row_type>("foreign_key_rows"));
    auto row = rows_->value_or({});
    change(row);
    if (row.value || !row.subscribers.empty())
      rows_->update(std::move(row));
    else
      rows_->clear();
  }

  std::optional<value_state<KR, row_type>> rows_;
};

/// What the `result` stage keeps per left key: the version of the last answer it took and the
/// joined value then (none: no row).
template <class R>
struct fk_result {
  uint64_t version = 0;
  std::optional<R> value;

  friend bool operator==(const fk_result&, const fk_result&) = default;
};

template <class Inspector, class R>
typename Inspector::result_type inspect(Inspector& f, fk_result<R>& x) {
  return f(caf::meta::type_name("sluice.fk_result"), x.version, x.value);
}

/// The `result` stage: keyed by the left key, it turns the newest answers into the joined
/// table's changes (keyed state table "foreign_key_results"). It keeps the version of a
/// deleted left row, to ignore the answers to its older versions still on their way.
template <class K, class V, class W, class Joiner>
class fk_result_function {
public:
  using result_type = typename Joiner::output_type;
  using output_type = table_change<K, result_type>;

  explicit fk_result_function(Joiner joiner) : joiner_(std::move(joiner)) {}

  void process(const fk_answer<K, V, W>& answer, keyed_context<K, output_type>& ctx) {
    if (!results_)
      results_.emplace(ctx.template value<fk_result<result_type>>("foreign_key_results"));
    auto last = results_->value_or({});
    if (answer.version < last.version)
      return;
    std::optional<result_type> now;
    if (answer.left && answer.right)
      now = joiner_.both(*answer.left, *answer.right);
    else if constexpr (Joiner::emits_lone_first)
      if (answer.left)
        now = joiner_.first_only(*answer.left);
    results_->update(fk_result<result_type>{answer.version, now});
    emit_change(ctx.key(), std::move(last.value), std::move(now), ctx);
  }

private:
  Joiner joiner_;
  std::optional<value_state<K, fk_result<result_type>>> results_;
};

} // namespace sluice::detail
