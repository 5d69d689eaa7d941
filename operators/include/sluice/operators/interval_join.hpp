#pragma once

#include <algorithm>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <caf/meta/type_name.hpp>

#include "sluice/context.hpp"
#include "sluice/detail/batch_prefetcher.hpp"
#include "sluice/error.hpp"
#include "sluice/joins/joiner.hpp"
#include "sluice/operators/co_process.hpp"
#include "sluice/operators/keyed_context.hpp"
#include "sluice/operators/keyed_timers.hpp"
#include "sluice/operators/two_input_key.hpp"

namespace sluice::detail {

/// A record waiting in an interval join for partners: its event time, whether it met one.
template <class T>
struct interval_join_entry {
  timestamp time = 0;
  bool matched = false;
  T value{};

  friend bool operator==(const interval_join_entry&, const interval_join_entry&) = default;
};

template <class Inspector, class T>
typename Inspector::result_type inspect(Inspector& f, interval_join_entry<T>& x) {
  return f(caf::meta::type_name("sluice.interval_join_entry"), x.time, x.matched, x.value);
}

/// The records of a key an interval join keeps, of each input, in event-time order.
template <class A, class B>
struct interval_join_buffers {
  std::vector<interval_join_entry<A>> first;
  std::vector<interval_join_entry<B>> second;

  friend bool operator==(const interval_join_buffers&, const interval_join_buffers&) = default;
};

template <class Inspector, class A, class B>
typename Inspector::result_type inspect(Inspector& f, interval_join_buffers<A, B>& x) {
  return f(caf::meta::type_name("sluice.interval_join_buffers"), x.first, x.second);
}

} // namespace sluice::detail

namespace sluice::op {

/// An interval join of two keyed streams (Flink's IntervalJoinOperator, with outer joins): a
/// record `a` of the first input and `b` of the second with one key join when
/// `a.time + lower <= b.time <= a.time + upper`; the result carries the later of their times.
///
/// Each record waits in its key's buffer (keyed state, table "interval_join") until the
/// watermark makes a partner impossible: `a` until it passes `a.time + max(upper, 0)`, `b` until
/// it passes `b.time - min(lower, 0)`; a keyed event-time timer then removes it and, in an outer
/// join, emits it alone if it met no partner, stamped with that time. A record at or below the
/// watermark is late (some of its partners may be gone): it joins nothing and is counted
/// (`late_records`), as Flink drops it. A record without event time (min_timestamp) fails.
template <class A, class KeyA, class B, class KeyB, class Joiner>
class interval_join {
public:
  using key_function = detail::two_input_key<A, KeyA, B, KeyB>;
  using key_type = typename key_function::key_type;
  using input_type = two_inputs<A, B>;
  using output_type = typename Joiner::output_type;
  using buffers = detail::interval_join_buffers<A, B>;

  interval_join(key_function key, Joiner joiner, timestamp lower, timestamp upper)
    : key_(std::move(key)), joiner_(std::move(joiner)), lower_(lower), upper_(upper) {}

  // The keyed context points into this object; copies (one per instance) rebuild it on open.
  interval_join(const interval_join& other)
    : key_(other.key_), joiner_(other.joiner_), lower_(other.lower_), upper_(other.upper_) {}

  void open(context<output_type>& ctx) {
    ctx_ = &ctx;
    keyed_ctx_.emplace(ctx);
    timers_.open(ctx, *keyed_ctx_);
    table_ = ctx.state().template table<key_type, buffers>("interval_join");
  }

  void on_batch(std::vector<record<input_type>>& records, context<output_type>& ctx) {
    auto& kctx = *keyed_ctx_;
    auto prefetch = [&](const input_type& value) { table_->prefetch(key_(value)); };
    detail::batch_prefetcher<input_type, decltype(prefetch)> ahead{true, records, prefetch};
    ctx.for_each_record(
      records,
      [&](record<input_type>& r) {
        ahead.next();
        const auto& key = key_(r.value);
        kctx.set_key(&key);
        on_record(key, r);
      },
      [&](const input_type& value) { return record_text(key_(value)); });
    kctx.set_key(nullptr);
  }

  void on_watermark(timestamp time, context<output_type>& ctx) {
    timers_.on_watermark(time, ctx, *keyed_ctx_, on_timer());
  }

  /// The input ended: every record still waiting goes, those alone emitted in an outer join.
  void on_end(context<output_type>& ctx) { timers_.on_end(ctx, *keyed_ctx_, on_timer()); }

  /// Records that came at or below the watermark and joined nothing.
  [[nodiscard]] uint64_t late_records() const noexcept { return late_; }

private:
  void on_record(const key_type& key, record<input_type>& r) {
    if (r.time == min_timestamp)
      throw failure(errc::configuration,
                    std::string{"an interval join needs event time, and a record of its "}
                      + (r.value.index() == 0 ? "first" : "second")
                      + " input has none: give its source a watermark strategy with "
                        "timestamps, or assign_watermarks");
    if (r.time <= ctx_->watermark()) {
      ++late_;
      return;
    }
    auto& waiting = table_->upsert(key);
    if (r.value.index() == 0) {
      const auto& a = std::get<0>(r.value);
      bool matched =
        join_partners(waiting.second, r.time, shifted(r.time, lower_), shifted(r.time, upper_),
                      [&](const B& b) { return joiner_.both(a, b); });
      keyed_ctx_->register_event_time_timer(first_cleanup(r.time));
      wait(waiting.first, r.time, matched, std::move(std::get<0>(r.value)));
    } else {
      const auto& b = std::get<1>(r.value);
      bool matched =
        join_partners(waiting.first, r.time, shifted(r.time, -upper_), shifted(r.time, -lower_),
                      [&](const A& a) { return joiner_.both(a, b); });
      keyed_ctx_->register_event_time_timer(second_cleanup(r.time));
      wait(waiting.second, r.time, matched, std::move(std::get<1>(r.value)));
    }
  }

  /// Emits `join(partner)` for each partner in `others` with a time in [from, to], marking it
  /// matched, stamped with the later of its time and `time`. True if there was one.
  template <class T, class Join>
  bool join_partners(std::vector<detail::interval_join_entry<T>>& others, timestamp time,
                     timestamp from, timestamp to, Join join) {
    auto i = std::lower_bound(others.begin(), others.end(), from,
                              [](const auto& e, timestamp t) { return e.time < t; });
    bool any = false;
    for (; i != others.end() && i->time <= to; ++i) {
      ctx_->emit(join(i->value), std::max(time, i->time));
      i->matched = true;
      any = true;
    }
    return any;
  }

  /// Puts a record into its side's buffer, in time order. (Its cleanup timer is asked for
  /// before: the key may live in the record.)
  template <class T>
  static void wait(std::vector<detail::interval_join_entry<T>>& side, timestamp time, bool matched,
                   T&& value) {
    auto at = std::upper_bound(side.begin(), side.end(), time,
                               [](timestamp t, const auto& e) { return t < e.time; });
    side.insert(at, detail::interval_join_entry<T>{time, matched, std::move(value)});
  }

  /// When a record of the first input at `time` can meet no partner any more.
  [[nodiscard]] timestamp first_cleanup(timestamp time) const {
    return shifted(time, std::max<timestamp>(upper_, 0));
  }

  /// When a record of the second input at `time` can meet no partner any more.
  [[nodiscard]] timestamp second_cleanup(timestamp time) const {
    return shifted(time, -std::min<timestamp>(lower_, 0));
  }

  /// `time + delta`, held within the timestamps.
  static timestamp shifted(timestamp time, timestamp delta) {
    if (delta > 0 && time > max_timestamp - delta)
      return max_timestamp;
    if (delta < 0 && time < min_timestamp - delta)
      return min_timestamp;
    return time + delta;
  }

  auto on_timer() {
    return [this](timestamp time) { on_timer(time); };
  }

  /// A cleanup timer of the current key came due: the records whose cleanup time it reached go,
  /// in an outer join those without a partner emitted alone.
  void on_timer(timestamp time) {
    const auto& key = keyed_ctx_->key();
    table_->modify(key, [&](buffers& waiting) {
      expire(
        waiting.first, time, [this](timestamp t) { return first_cleanup(t); },
        [this](const A& a) {
          if constexpr (Joiner::emits_lone_first)
            ctx_->emit(joiner_.first_only(a));
        });
      expire(
        waiting.second, time, [this](timestamp t) { return second_cleanup(t); },
        [this](const B& b) {
          if constexpr (Joiner::emits_lone_second)
            ctx_->emit(joiner_.second_only(b));
        });
      return waiting.first.empty() && waiting.second.empty();
    });
  }

  /// Removes the records of `side` whose cleanup time is at or before `time` (a prefix: the
  /// cleanup time grows with the record's), calling `alone` on those that met no partner.
  template <class T, class Cleanup, class Alone>
  static void expire(std::vector<detail::interval_join_entry<T>>& side, timestamp time,
                     Cleanup cleanup, Alone alone) {
    auto end =
      std::find_if(side.begin(), side.end(), [&](const auto& e) { return cleanup(e.time) > time; });
    for (auto i = side.begin(); i != end; ++i)
      if (!i->matched)
        alone(i->value);
    side.erase(side.begin(), end);
  }

  key_function key_;
  Joiner joiner_;
  timestamp lower_;
  timestamp upper_;
  uint64_t late_ = 0;
  context<output_type>* ctx_ = nullptr;
  std::optional<keyed_context<key_type, output_type>> keyed_ctx_;
  detail::keyed_timers<key_type, output_type> timers_;
  std::shared_ptr<keyed_table<key_type, buffers>> table_;
};

} // namespace sluice::op
