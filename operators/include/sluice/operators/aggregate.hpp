#pragma once

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "sluice/context.hpp"
#include "sluice/operators/key_by.hpp"
#include "sluice/operators/keyed_results.hpp"
#include "sluice/state.hpp"

namespace sluice::op {

/// A keyed aggregation in one stage: folds each record into its key's accumulator with an
/// aggregate function and emits `(key, result)` (see keyed_results for when). Used for aggregate
/// functions that cannot merge accumulators; the others run as combine + merge_aggregate.
template <class T, class KeyFn, aggregate_function Agg>
class aggregate {
public:
  using key_type = key_type_of<KeyFn, T>;
  using input_type = T;
  using output_type = std::pair<key_type, typename Agg::result_type>;

  aggregate(KeyFn key, Agg agg, std::string state_name)
    : key_(std::move(key)), results_(std::move(agg), std::move(state_name)) {}

  void open(context<output_type>& ctx) { results_.open(ctx); }

  void on_batch(std::vector<record<T>>& records, context<output_type>& ctx) {
    auto key_of = [&](const T& value) -> decltype(auto) { return std::invoke(key_, value); };
    auto ahead = results_.prefetcher(records, key_of);
    ctx.for_each_record(
      records,
      [&](record<T>& r) {
        ahead.next();
        decltype(auto) key = std::invoke(key_, std::as_const(r.value));
        results_.fold(
          key, r.time, [&](auto& acc) { results_.function().add(acc, std::as_const(r.value)); },
          ctx);
      },
      [&](const T& value) { return record_text(std::invoke(key_, value)); });
  }

  void on_end(context<output_type>& ctx) { results_.on_end(ctx); }

private:
  KeyFn key_;
  keyed_results<key_type, Agg> results_;
};

} // namespace sluice::op
