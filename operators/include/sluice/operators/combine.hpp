#pragma once

#include <algorithm>
#include <cstddef>
#include <functional>
#include <utility>
#include <vector>

#include <absl/container/flat_hash_map.h>

#include "sluice/context.hpp"
#include "sluice/operators/key_by.hpp"
#include "sluice/state.hpp"

namespace sluice::op {

/// The first stage of a keyed aggregation, before the shuffle, at the parallelism of its input
/// (a combiner, as in MapReduce and Flink's batch runtime): turns records into partial
/// accumulators `(key, accumulator)` for `merge_aggregate`.
///
/// In batch mode it folds all records of a key that reach this instance into one partial and
/// sends the partials at end of stream, or whenever it holds `max_keys` keys (so its memory is
/// bounded), so the shuffle carries about one record per key and instance. In streaming mode it
/// sends one partial per record at once, so the merge stage emits a result per record as
/// without a combiner.
template <class T, class KeyFn, mergeable_aggregate Agg>
class combine {
public:
  using key_type = key_type_of<KeyFn, T>;
  using accumulator_type = typename Agg::accumulator_type;
  using input_type = T;
  using output_type = std::pair<key_type, accumulator_type>;

  /// Keys held before the partials are sent early: bounds a combine instance's memory (about
  /// 100 MB for short string keys and small accumulators) while combining up to a million keys
  /// in one pass (the 140 MB text corpus of docs/benchmarks.md has 690,000 distinct words).
  static constexpr size_t default_max_keys = size_t{1} << 20;

  combine(KeyFn key, Agg agg, size_t max_keys = default_max_keys)
    : key_(std::move(key)), agg_(std::move(agg)), max_keys_(std::max<size_t>(max_keys, 1)) {}

  void open(context<output_type>& ctx) { batch_mode_ = ctx.info().batch_mode; }

  void on_batch(std::vector<record<T>>& records, context<output_type>& ctx) {
    auto key_text = [&](const T& value) { return record_text(std::invoke(key_, value)); };
    if (!batch_mode_) {
      ctx.for_each_record(
        records,
        [&](record<T>& r) {
          auto acc = agg_.create();
          agg_.add(acc, std::as_const(r.value));
          ctx.emit(output_type{std::invoke(key_, std::as_const(r.value)), std::move(acc)}, r.time);
        },
        key_text);
      return;
    }
    ctx.for_each_record(
      records, [&](record<T>& r) { add(std::invoke(key_, std::as_const(r.value)), r, ctx); },
      key_text);
  }

  void on_end(context<output_type>& ctx) { send_partials(ctx); }

  /// The partials are not keyed state: they leave before the checkpoint's barrier, so the
  /// checkpoint holds them in the merge stage's state.
  void on_checkpoint(uint64_t, context<output_type>& ctx) { send_partials(ctx); }

private:
  struct partial {
    accumulator_type acc;
    timestamp time = min_timestamp;
  };

  /// Folds a record into its key's partial. A record that fails leaves no trace: a new key
  /// gets its partial only once the record is in it, and an instance that skips failed records
  /// folds into a copy.
  void add(const key_type& key, const record<T>& r, context<output_type>& ctx) {
    auto found = partials_.find(key);
    if (found == partials_.end()) {
      auto acc = agg_.create();
      agg_.add(acc, r.value);
      if (partials_.size() >= max_keys_)
        send_partials(ctx);
      partials_.emplace(key, partial{std::move(acc), r.time});
      return;
    }
    auto& p = found->second;
    if (ctx.skips_failed_records()) {
      auto acc = p.acc;
      agg_.add(acc, r.value);
      p.acc = std::move(acc);
    } else {
      agg_.add(p.acc, r.value);
    }
    p.time = std::max(p.time, r.time);
  }

  void send_partials(context<output_type>& ctx) {
    for (auto& [key, p] : partials_)
      ctx.emit(output_type{key, std::move(p.acc)}, p.time);
    partials_.clear();
  }

  KeyFn key_;
  Agg agg_;
  size_t max_keys_;
  absl::flat_hash_map<key_type, partial, table_hash<key_type>> partials_;
  bool batch_mode_ = false;
};

} // namespace sluice::op
