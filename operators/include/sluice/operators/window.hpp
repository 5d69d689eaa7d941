#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <numeric>
#include <optional>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "sluice/context.hpp"
#include "sluice/detail/batch_prefetcher.hpp"
#include "sluice/operators/key_by.hpp"
#include "sluice/operators/keyed_context.hpp"
#include "sluice/operators/keyed_timers.hpp"
#include "sluice/state.hpp"
#include "sluice/windows/time_window.hpp"
#include "sluice/windows/trigger.hpp"

namespace sluice::op {

/// Keyed windows (Flink's WindowOperator): each record joins the windows `Assigner` gives it;
/// `Contents` keeps what a window needs to fire (an accumulator, a running reduce, the
/// records); `Trigger` says when a window fires; a window's state goes once the watermark
/// passes its end plus the allowed lateness (docs/windows.md).
///
/// A key's windows are one entry of keyed state (table "windows"): the key's open windows, each
/// with its contents and its trigger's state, so they are checkpointed, restored and rescaled
/// with the key, and removed with its last window. Timers (the trigger's, and the cleanup at the
/// end of the lateness) are the keyed timers of the instance; a timer calls back every window of
/// its key, whose trigger decides.
///
/// A record is late when every window it would join is past its cleanup time: it joins none and
/// is counted (`late_records`). With `LateOutput`, the operator's output is
/// `std::variant<result_type, T>`: its results, and its late records as they came. Merging
/// assigners (sessions) merge the windows a new one overlaps or touches, their contents and their
/// triggers' states.
template <class T, class KeyFn, class Assigner, class Trigger, class Contents,
          bool LateOutput = false>
class window {
public:
  using key_type = key_type_of<KeyFn, T>;
  using input_type = T;
  using result_type = typename Contents::output_type;
  using output_type = std::conditional_t<LateOutput, std::variant<result_type, T>, result_type>;

  /// A window of a key: its bounds, contents and trigger state.
  struct entry {
    time_window bounds;
    typename Contents::state_type contents{};
    typename Trigger::state_type trigger{};

    template <class Inspector>
    friend typename Inspector::result_type inspect(Inspector& f, entry& x) {
      return f(caf::meta::type_name("sluice.window_entry"), x.bounds, x.contents, x.trigger);
    }
  };

  using entries = list_values<entry>;

  window(KeyFn key, Assigner assigner, Trigger trigger, Contents contents,
         std::chrono::milliseconds allowed_lateness)
    : key_(std::move(key)),
      assigner_(std::move(assigner)),
      trigger_(std::move(trigger)),
      contents_(std::move(contents)),
      lateness_(allowed_lateness.count()) {}

  // The keyed context points into this object; copies (one per instance) rebuild it on open.
  window(const window& other)
    : key_(other.key_),
      assigner_(other.assigner_),
      trigger_(other.trigger_),
      contents_(other.contents_),
      lateness_(other.lateness_) {}

  void open(context<output_type>& ctx) {
    ctx_ = &ctx;
    if constexpr (LateOutput) {
      forward_results_.ctx = &ctx;
      results_out_.bind(forward_results_);
      results_ctx_.emplace(results_out_, ctx.info(), ctx.state());
    }
    keyed_ctx_.emplace(ctx);
    timers_.open(ctx, *keyed_ctx_);
    table_ = ctx.state().template table<key_type, entries>("windows");
  }

  void on_batch(std::vector<record<T>>& records, context<output_type>& ctx) {
    auto& kctx = *keyed_ctx_;
    auto prefetch = [&](const T& value) { table_->prefetch(std::invoke(key_, value)); };
    detail::batch_prefetcher<T, decltype(prefetch)> ahead{true, records, prefetch};
    ctx.for_each_record(
      records,
      [&](record<T>& r) {
        ahead.next();
        ctx.set_current_time(r.time);
        const auto& key = std::invoke(key_, std::as_const(r.value));
        kctx.set_key(&key);
        on_record(key, r);
      },
      [&](const T& value) { return record_text(std::invoke(key_, value)); });
    kctx.set_key(nullptr);
  }

  void on_watermark(timestamp time, context<output_type>& ctx) {
    timers_.on_watermark(time, ctx, *keyed_ctx_, on_timer());
  }

  /// The host's clock moved on to `now`: fires the processing-time timers due.
  void on_processing_time(timestamp now, context<output_type>& ctx) {
    timers_.on_processing_time(now, ctx, *keyed_ctx_, on_timer());
  }

  /// The input ended: every pending timer fires, so every window fires and is cleaned up.
  void on_end(context<output_type>& ctx) { timers_.on_end(ctx, *keyed_ctx_, on_timer()); }

  /// Records that came after every window they would join was cleaned up.
  [[nodiscard]] uint64_t late_records() const noexcept { return late_; }

private:
  [[nodiscard]] bool event_time_windows() const {
    return assigner_.domain() == time_domain::event_time;
  }

  /// What triggers see: the instance's clocks and the timers of the key at hand.
  class trigger_view final : public trigger_context {
  public:
    explicit trigger_view(keyed_context<key_type, output_type>& kctx) : kctx_(&kctx) {}

    timestamp watermark() const override { return kctx_->watermark(); }
    timestamp processing_time() override { return kctx_->current_processing_time(); }
    void register_event_time_timer(timestamp time) override {
      kctx_->register_event_time_timer(time);
    }
    void register_processing_time_timer(timestamp time) override {
      kctx_->register_processing_time_timer(time);
    }

  private:
    keyed_context<key_type, output_type>* kctx_;
  };

  void on_record(const key_type& key, record<T>& r) {
    auto& kctx = *keyed_ctx_;
    auto time = event_time_windows() ? r.time : kctx.current_processing_time();
    bool joined = false;
    entries* list = nullptr;
    assigner_.assign(r.value, time, [&](const time_window& w) {
      if (is_late(w))
        return;
      joined = true;
      if (!list)
        list = &table_->upsert(key);
      if constexpr (Assigner::merging)
        add_merging(key, *list, w, r);
      else
        add(key, *list, w, r);
    });
    if (joined)
      return;
    ++late_;
    if constexpr (LateOutput)
      ctx_->emit(output_type{std::in_place_index<1>, std::move(r.value)}, r.time);
  }

  /// Adds `r` to window `w` of `key`, whose windows are `list`.
  void add(const key_type& key, entries& list, const time_window& w, const record<T>& r) {
    auto i = std::find_if(list.begin(), list.end(), [&](const entry& e) { return e.bounds == w; });
    if (i == list.end()) {
      list.push_back(entry{w});
      register_cleanup(key, w, true);
      i = list.end() - 1;
    }
    contents_.add(i->contents, r);
    trigger_view view{*keyed_ctx_};
    act(key, *i, trigger_.on_element(i->trigger, i->bounds, r.time, view));
  }

  /// Adds `r` to window `w` of `key`, merged first with the windows of `list` (sorted by start,
  /// none overlapping another) that it overlaps or touches.
  void add_merging(const key_type& key, entries& list, const time_window& w, const record<T>& r) {
    auto first = std::find_if(list.begin(), list.end(),
                              [&](const entry& e) { return e.bounds.intersects(w); });
    auto last =
      std::find_if(first, list.end(), [&](const entry& e) { return !e.bounds.intersects(w); });
    trigger_view view{*keyed_ctx_};
    if (first == last) {
      auto at = std::find_if(list.begin(), list.end(),
                             [&](const entry& e) { return w.start < e.bounds.start; });
      first = list.insert(at, entry{w});
      register_cleanup(key, w, false);
    } else if (auto merged = std::accumulate(
                 first, last, w, [](time_window m, const entry& e) { return m.cover(e.bounds); });
               merged != first->bounds) {
      for (auto i = first + 1; i != last; ++i) {
        contents_.merge(first->contents, std::move(i->contents));
        trigger_.merge_state(first->trigger, i->trigger);
      }
      first->bounds = merged;
      first = list.erase(first + 1, last) - 1;
      trigger_.on_merge(first->trigger, merged, view);
      register_cleanup(key, merged, false);
    }
    contents_.add(first->contents, r);
    act(key, *first, trigger_.on_element(first->trigger, first->bounds, r.time, view));
  }

  /// Does what the trigger decided for window `e` of `key`.
  void act(const key_type& key, entry& e, trigger_result decision) {
    if (fires(decision)) {
      if constexpr (LateOutput) {
        // The results' context shows the window function the instance's clocks too.
        detail::host_access::set_watermark(*results_ctx_, ctx_->watermark());
        detail::host_access::set_processing_time(*results_ctx_, ctx_->current_processing_time());
        results_ctx_->set_current_time(e.bounds.max_timestamp());
        contents_.fire(key, e.bounds, e.contents, *results_ctx_);
        results_out_.drain();
      } else {
        ctx_->set_current_time(e.bounds.max_timestamp());
        contents_.fire(key, e.bounds, e.contents, *ctx_);
      }
    }
    if (purges(decision))
      e.contents = {};
  }

  auto on_timer() {
    return [this](timestamp time) { on_timer(time, keyed_ctx_->timer_domain()); };
  }

  /// A timer of the current key came due: each of its windows' triggers decides, and the
  /// windows whose cleanup time it is go.
  void on_timer(timestamp time, time_domain domain) {
    const auto& key = keyed_ctx_->key();
    if (!table_->find(key))
      return;
    auto& list = table_->upsert(key);
    trigger_view view{*keyed_ctx_};
    for (auto i = list.begin(); i != list.end();) {
      auto decision = domain == time_domain::event_time
                        ? trigger_.on_event_time(i->trigger, i->bounds, time, view)
                        : trigger_.on_processing_time(i->trigger, i->bounds, time, view);
      act(key, *i, decision);
      if (domain == assigner_.domain() && time == cleanup_time(i->bounds))
        i = list.erase(i);
      else
        ++i;
    }
    if (list.empty())
      table_->erase(key);
  }

  /// When window `w`'s state goes: the end of its lateness in event time, its end in processing
  /// time; never for a window that lasts for ever (the global window).
  [[nodiscard]] timestamp cleanup_time(const time_window& w) const {
    if (w.end == max_timestamp)
      return max_timestamp;
    if (!event_time_windows())
      return w.max_timestamp();
    return w.max_timestamp() > max_timestamp - lateness_ ? max_timestamp
                                                         : w.max_timestamp() + lateness_;
  }

  [[nodiscard]] bool is_late(const time_window& w) const {
    return event_time_windows() && cleanup_time(w) <= ctx_->watermark();
  }

  /// Asks for a timer at the cleanup time of window `w` of `key`. `opened`: `w` just opened
  /// and no other window of the key ends where it does (a window of an assigner that does not
  /// merge), nor did one before (it would have been late), so the timer is surely new.
  void register_cleanup(const key_type& key, const time_window& w, bool opened) {
    auto time = cleanup_time(w);
    if (time == max_timestamp)
      return;
    if (opened)
      timers_.add_new(assigner_.domain(), key, time, *ctx_);
    else if (event_time_windows())
      keyed_ctx_->register_event_time_timer(time);
    else
      keyed_ctx_->register_processing_time_timer(time);
  }

  /// With LateOutput: hands the results the contents emit on as the output's first alternative.
  struct result_forwarder {
    context<output_type>* ctx = nullptr;

    void emit_batch(std::vector<record<result_type>>& results) {
      for (auto& r : results)
        ctx->emit(output_type{std::in_place_index<0>, std::move(r.value)}, r.time);
      results.clear();
    }
  };

  KeyFn key_;
  Assigner assigner_;
  Trigger trigger_;
  Contents contents_;
  timestamp lateness_ = 0;
  uint64_t late_ = 0;
  context<output_type>* ctx_ = nullptr;
  result_forwarder forward_results_;
  collector<result_type> results_out_;
  std::optional<context<result_type>> results_ctx_;
  std::optional<keyed_context<key_type, output_type>> keyed_ctx_;
  detail::keyed_timers<key_type, output_type> timers_;
  std::shared_ptr<keyed_table<key_type, entries>> table_;
};

} // namespace sluice::op
