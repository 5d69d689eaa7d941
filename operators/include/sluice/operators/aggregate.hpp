#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "sluice/context.hpp"
#include "sluice/operators/key_by.hpp"
#include "sluice/state.hpp"

namespace sluice::op {

/// A keyed aggregation: folds each record into its key's accumulator with an aggregate function
/// and emits `(key, result)`.
///
/// In streaming mode every record emits its key's updated result (a changelog, as Flink's
/// rolling aggregations). In batch mode each key emits once, at end of stream, with the largest
/// event time folded into it.
template <class T, class KeyFn, aggregate_function Agg>
class aggregate {
public:
  using key_type = key_type_of<KeyFn, T>;
  using input_type = T;
  using output_type = std::pair<key_type, typename Agg::result_type>;

  aggregate(KeyFn key, Agg agg, std::string state_name)
    : key_(std::move(key)), agg_(std::move(agg)), state_name_(std::move(state_name)) {}

  void open(context<output_type>& ctx) {
    table_ = ctx.state().template table<key_type, entry>(state_name_);
    batch_mode_ = ctx.info().batch_mode;
  }

  void on_batch(std::vector<record<T>>& records, context<output_type>& ctx) {
    for (auto& r : records) {
      auto key = std::invoke(key_, std::as_const(r.value));
      auto& e = table_->upsert(key);
      if (!e.acc)
        e.acc = agg_.create();
      agg_.add(*e.acc, std::as_const(r.value));
      e.time = std::max(e.time, r.time);
      if (!batch_mode_)
        ctx.emit(output_type{std::move(key), agg_.result(*e.acc)}, r.time);
    }
  }

  void on_end(context<output_type>& ctx) {
    if (!batch_mode_)
      return;
    table_->for_each([&](const key_type& key, const entry& e) {
      ctx.emit(output_type{key, agg_.result(*e.acc)}, e.time);
    });
  }

private:
  struct entry {
    std::optional<typename Agg::accumulator_type> acc;
    timestamp time = min_timestamp;
  };

  KeyFn key_;
  Agg agg_;
  std::string state_name_;
  std::shared_ptr<keyed_table<key_type, entry>> table_;
  bool batch_mode_ = false;
};

} // namespace sluice::op
