#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include <caf/meta/type_name.hpp>

#include "sluice/operators/keyed_context.hpp"
#include "sluice/state.hpp"
#include "sluice/tables/table_change.hpp"

namespace sluice::detail {

/// What a temporal join keeps of a key: the table's values from their event time on (none: the
/// key was deleted then), and the stream's records waiting for the watermark, in event time.
template <class T, class W>
struct temporal_join_key {
  std::vector<std::pair<timestamp, std::optional<W>>> versions;
  std::vector<std::pair<timestamp, T>> waiting;

  friend bool operator==(const temporal_join_key&, const temporal_join_key&) = default;
};

template <class Inspector, class T, class W>
typename Inspector::result_type inspect(Inspector& f, temporal_join_key<T, W>& x) {
  return f(caf::meta::type_name("sluice.temporal_join_key"), x.versions, x.waiting);
}

/// The keyed two-input function of an event-time temporal join (Flink's `FOR SYSTEM_TIME AS OF`
/// join with a versioned table; Kafka Streams' stream–table join over a versioned store): each
/// record of the stream (first input) joins the value its key had in the table (second input)
/// at the record's event time. A record waits until the watermark reaches its time, so every
/// change of the table up to then has come; then it is joined (or, in a left join, emitted
/// alone if the key had no value then) and stamped with its time. Old values go once the
/// watermark passed a newer one. State: keyed state table "temporal_join".
///
/// A record at or below the watermark is late (the value it should meet may be gone): it is
/// dropped and counted (`late_records`), as Flink drops it.
template <class T, class K, class W, class Joiner>
class temporal_table_join {
public:
  using output_type = typename Joiner::output_type;
  using key_state = temporal_join_key<T, W>;

  explicit temporal_table_join(Joiner joiner) : joiner_(std::move(joiner)) {}

  void process_first(const T& record, keyed_context<K, output_type>& ctx) {
    auto time = ctx.current_time();
    if (time <= ctx.watermark()) {
      ++late_;
      return;
    }
    update(ctx, [&](key_state& s) { s.waiting.emplace_back(time, record); });
    ctx.register_event_time_timer(time);
  }

  void process_second(const table_change<K, W>& change, keyed_context<K, output_type>& ctx) {
    auto time = ctx.current_time();
    update(ctx, [&](key_state& s) {
      auto at = std::upper_bound(s.versions.begin(), s.versions.end(), time,
                                 [](timestamp t, const auto& v) { return t < v.first; });
      s.versions.emplace(at, time, change.new_value);
    });
    ctx.register_event_time_timer(time); // to let older values go
  }

  /// The watermark reached `time`: the records waiting until then are joined, and the values
  /// older than the last one at or before `time` go.
  void on_timer(timestamp time, keyed_context<K, output_type>& ctx) {
    update(ctx, [&](key_state& s) {
      auto due = std::stable_partition(s.waiting.begin(), s.waiting.end(),
                                       [&](const auto& w) { return w.first <= time; });
      std::stable_sort(s.waiting.begin(), due,
                       [](const auto& a, const auto& b) { return a.first < b.first; });
      for (auto i = s.waiting.begin(); i != due; ++i)
        join(i->second, value_at(s, i->first), ctx);
      s.waiting.erase(s.waiting.begin(), due);
      auto newer = std::upper_bound(s.versions.begin(), s.versions.end(), time,
                                    [](timestamp t, const auto& v) { return t < v.first; });
      if (newer != s.versions.begin()) {
        auto last = newer - 1;
        s.versions.erase(s.versions.begin(), last->second ? last : newer);
      }
    });
  }

  /// Records that came at or below the watermark and joined nothing.
  [[nodiscard]] uint64_t late_records() const noexcept { return late_; }

private:
  /// The key's value at `time`, if it had one.
  static const W* value_at(const key_state& s, timestamp time) {
    auto newer = std::upper_bound(s.versions.begin(), s.versions.end(), time,
                                  [](timestamp t, const auto& v) { return t < v.first; });
    if (newer == s.versions.begin() || !(newer - 1)->second)
      return nullptr;
    return &*(newer - 1)->second;
  }

  void join(const T& record, const W* value, keyed_context<K, output_type>& ctx) {
    if (value)
      ctx.emit(joiner_.both(record, *value));
    else if constexpr (Joiner::emits_lone_first)
      ctx.emit(joiner_.first_only(record));
  }

  template <class Change>
  void update(keyed_context<K, output_type>& ctx, Change change) {
    if (!keys_)
      keys_.emplace(ctx.template value<key_state>("temporal_join"));
    auto s = keys_->value_or({});
    change(s);
    if (s.versions.empty() && s.waiting.empty())
      keys_->clear();
    else
      keys_->update(std::move(s));
  }

  Joiner joiner_;
  uint64_t late_ = 0;
  std::optional<value_state<K, key_state>> keys_;
};

} // namespace sluice::detail
