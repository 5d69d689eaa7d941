#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <type_traits>
#include <utility>
#include <vector>

#include "sluice/collector.hpp"
#include "sluice/context.hpp"
#include "sluice/operator.hpp"
#include "sluice/split_watermarks.hpp"
#include "sluice/watermark_strategy.hpp"

namespace sluice::op {

/// A source read with a watermark strategy (`pipeline::source(src, strategy)`, Flink's
/// `fromSource(source, strategy, name)`): the strategy's timestamp assigner sets each record's
/// event time, and a copy of its generator per split of the source (the splits the source names
/// with `begin_split`) makes that split's watermark. The source's watermark is the minimum over
/// its splits that are not idle (split_watermarks), in place of the watermarks the source makes
/// itself; a split is idle after the strategy's idleness without a record.
///
/// The generators are not checkpointed: a restored job starts them afresh, as Flink does (the
/// operators downstream keep the watermark they had). An instance restarted alone sends the
/// watermarks and idleness of its failed incarnation at the same records again: its host logged
/// them.
template <class Src, class Generator, class TimestampFn>
class source_watermarks {
public:
  using output_type = typename Src::output_type;

  static constexpr bool trails_other_sources = [] {
    if constexpr (requires { Src::trails_other_sources; })
      return Src::trails_other_sources;
    return false;
  }();

  static constexpr bool skips_undecodable_records = [] {
    if constexpr (requires { Src::skips_undecodable_records; })
      return Src::skips_undecodable_records;
    return false;
  }();

  source_watermarks(Src src, watermark_strategy<Generator, TimestampFn> strategy)
    : src_(std::move(src)), strategy_(std::move(strategy)) {}

  // Each instance starts from the source and the strategy alone.
  source_watermarks(const source_watermarks& other)
    : src_(other.src_), strategy_(other.strategy_) {}
  source_watermarks(source_watermarks&&) noexcept = default;

  [[nodiscard]] bool bounded() const { return src_.bounded(); }

  void open(source_context<output_type>& ctx) {
    running_ = std::make_unique<running>(ctx, strategy_);
    if constexpr (requires { src_.open(running_->inner); })
      src_.open(running_->inner);
  }

  source_step produce(source_context<output_type>& ctx, size_t max_records) {
    auto& r = *running_;
    r.collected.bind(r, max_records);
    auto step = src_.produce(r.inner, max_records);
    r.collected.drain();
    auto now = clock::now();
    auto combined = r.splits.combine(now);
    ctx.mark_idle(combined.idle);
    if (!combined.idle && combined.watermark != min_timestamp)
      ctx.emit_watermark(combined.watermark);
    if (step.what == source_step::kind::wait)
      step.delay = std::min(step.delay, until_next_look(now));
    return step;
  }

  [[nodiscard]] auto checkpoint_splits() const requires requires(const Src& s) {
    s.checkpoint_splits();
  }
  { return src_.checkpoint_splits(); }

  template <class Splits>
  requires requires(Src& s, Splits splits) { s.restore_splits(std::move(splits)); }
  void restore_splits(Splits splits) { src_.restore_splits(std::move(splits)); }

  void on_checkpoint(uint64_t id) requires requires(Src& s) { s.on_checkpoint(id); }
  { src_.on_checkpoint(id); }

  void on_checkpoint_complete(uint64_t id) requires requires(Src& s) {
    s.on_checkpoint_complete(id);
  }
  { src_.on_checkpoint_complete(id); }

private:
  using clock = std::chrono::steady_clock;
  using record_type = record<output_type>;

  /// What an instance has while it runs: the context its source emits into, which hands the
  /// records on stamped and counted per split.
  struct running final : split_listener {
    running(source_context<output_type>& ctx, const watermark_strategy<Generator, TimestampFn>& s)
      : outer(&ctx),
        inner(collected, ctx.info(), ctx.state(), [](auto) {}), // the strategy's watermarks rule
        splits(s.generator, s.idleness),
        timestamp_of(s.timestamp_of) {
      inner.listen_to_splits(this);
      detail::host_access::skip_failed_records_like(ctx, inner);
    }

    // Records collected so far come from the split that was current.
    void begin_split(uint64_t id) override {
      if (splits.is_current(id))
        return;
      collected.drain();
      splits.begin(id);
    }

    void end_split(uint64_t id) override {
      collected.drain();
      splits.end(id);
    }

    /// Sets the event time of `records` and feeds them to their split's generator, then hands
    /// them on. A record whose timestamp assigner throws (under failure_policy::skip) is not.
    void emit_batch(std::vector<record_type>& records) {
      auto kept = records.begin();
      outer->for_each_record(records, [&](record_type& r) {
        if constexpr (std::is_invocable_v<const TimestampFn&, const output_type&, timestamp>)
          r.time = std::invoke(timestamp_of, std::as_const(r.value), r.time);
        else if constexpr (std::is_invocable_v<const TimestampFn&, const output_type&>)
          r.time = std::invoke(timestamp_of, std::as_const(r.value));
        splits.on_event(std::as_const(r.value), r.time);
        if (&*kept != &r)
          *kept = std::move(r);
        ++kept;
      });
      records.erase(kept, records.end());
      outer->emit_batch(std::move(records));
    }

    source_context<output_type>* outer;
    collector<output_type> collected;
    source_context<output_type> inner;
    split_watermarks<Generator> splits;
    TimestampFn timestamp_of;
  };

  /// How long a source that waits may sleep before its splits must be looked at again: when
  /// one turns idle, and at the strategy's periodic interval.
  [[nodiscard]] std::chrono::microseconds until_next_look(clock::time_point now) const {
    auto longest = std::chrono::microseconds::max();
    if (strategy_.periodic_interval.count() > 0)
      longest = strategy_.periodic_interval;
    if (auto idle_at = running_->splits.next_idle())
      longest = std::min(longest, std::chrono::duration_cast<std::chrono::microseconds>(
                                    std::max(*idle_at - now, clock::duration::zero())));
    return std::max(longest, std::chrono::microseconds{1000});
  }

  Src src_;
  watermark_strategy<Generator, TimestampFn> strategy_;
  std::unique_ptr<running> running_;
};

} // namespace sluice::op
