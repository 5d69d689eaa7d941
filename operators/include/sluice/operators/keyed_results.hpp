#pragma once

#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "sluice/context.hpp"
#include "sluice/detail/batch_prefetcher.hpp"
#include "sluice/state.hpp"

namespace sluice::op {

/// The per-key accumulators of a keyed aggregation, in keyed state, and how their results are
/// emitted: after every update in streaming mode (a changelog, as Flink's rolling
/// aggregations); once per key at end of stream in batch mode, stamped with the largest event
/// time folded into the key.
template <class K, aggregate_function Agg>
class keyed_results {
public:
  using accumulator_type = typename Agg::accumulator_type;
  using output_type = std::pair<K, typename Agg::result_type>;

  keyed_results(Agg agg, std::string state_name)
    : agg_(std::move(agg)), state_name_(std::move(state_name)) {}

  void open(context<output_type>& ctx) {
    table_ = ctx.state().template table<K, entry>(state_name_);
    batch_mode_ = ctx.info().batch_mode;
  }

  [[nodiscard]] const Agg& function() const noexcept { return agg_; }

  /// A prefetcher of the accumulators of the keys of `records` (see detail::batch_prefetcher);
  /// `key_of(value)` is a record's key.
  template <class T, class KeyOf>
  [[nodiscard]] auto prefetcher(const std::vector<record<T>>& records, const KeyOf& key_of) const {
    return detail::batch_prefetcher{true, records,
                                    [&](const T& value) { table_->prefetch(key_of(value)); }};
  }

  /// Updates the accumulator of `key` (created if new) at event time `time` with
  /// `fn(accumulator&)`, then emits the key's new result in streaming mode.
  ///
  /// An instance that skips failed records works on a copy, stored only when all succeeded:
  /// a record that fails leaves no trace in the key's state.
  template <class F>
  void fold(const K& key, timestamp time, F&& fn, context<output_type>& ctx) {
    if (!ctx.skips_failed_records()) {
      auto& e = table_->upsert(key);
      if (!e.acc)
        e.acc = agg_.create();
      e.time = std::max(e.time, time);
      fn(*e.acc);
      if (!batch_mode_)
        ctx.emit(output_type{key, agg_.result(*e.acc)}, time);
      return;
    }
    const auto* found = table_->find(key);
    entry next = found ? *found : entry{};
    if (!next.acc)
      next.acc = agg_.create();
    next.time = std::max(next.time, time);
    fn(*next.acc);
    std::optional<output_type> result;
    if (!batch_mode_)
      result.emplace(key, agg_.result(*next.acc));
    table_->upsert(key) = std::move(next);
    if (result)
      ctx.emit(std::move(*result), time);
  }

  /// At end of stream: emits every key's result in batch mode.
  void on_end(context<output_type>& ctx) {
    if (!batch_mode_)
      return;
    table_->for_each([&](const K& key, const entry& e) {
      ctx.emit(output_type{key, agg_.result(*e.acc)}, e.time);
    });
  }

private:
  struct entry {
    std::optional<accumulator_type> acc;
    timestamp time = min_timestamp;

    friend void sluice_encode(state_writer& w, const entry& e) requires storable<accumulator_type> {
      w.write(e.acc);
      w.write(e.time);
    }

    friend void sluice_decode(state_reader& r, entry& e) requires storable<accumulator_type> {
      r.read(e.acc);
      r.read(e.time);
    }
  };

  Agg agg_;
  std::string state_name_;
  std::shared_ptr<keyed_table<K, entry>> table_;
  bool batch_mode_ = false;
};

} // namespace sluice::op
