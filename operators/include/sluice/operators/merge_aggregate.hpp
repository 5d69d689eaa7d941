#pragma once

#include <string>
#include <utility>
#include <vector>

#include "sluice/context.hpp"
#include "sluice/operators/keyed_results.hpp"
#include "sluice/state.hpp"

namespace sluice::op {

/// The second stage of a keyed aggregation, after the shuffle: merges the partial accumulators
/// `(key, accumulator)` that `combine` instances send into the key's accumulator, and emits
/// `(key, result)` (see keyed_results for when).
template <class K, mergeable_aggregate Agg>
class merge_aggregate {
public:
  using input_type = std::pair<K, typename Agg::accumulator_type>;
  using output_type = std::pair<K, typename Agg::result_type>;

  merge_aggregate(Agg agg, std::string state_name)
    : results_(std::move(agg), std::move(state_name)) {}

  void open(context<output_type>& ctx) { results_.open(ctx); }

  void on_batch(std::vector<record<input_type>>& records, context<output_type>& ctx) {
    auto key_of = [](const input_type& value) -> const K& { return value.first; };
    auto ahead = results_.prefetcher(records, key_of);
    ctx.for_each_record(
      records,
      [&](record<input_type>& r) {
        ahead.next();
        auto& [key, partial] = r.value;
        results_.fold(
          key, r.time,
          [&](auto& acc) {
            // Under skip the record must stay intact for its dead letter: merge a copy.
            if (ctx.skips_failed_records())
              results_.function().merge(acc, typename Agg::accumulator_type{partial});
            else
              results_.function().merge(acc, std::move(partial));
          },
          ctx);
      },
      [](const input_type& value) { return record_text(value.first); });
  }

  void on_end(context<output_type>& ctx) { results_.on_end(ctx); }

private:
  keyed_results<K, Agg> results_;
};

} // namespace sluice::op
