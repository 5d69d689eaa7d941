#pragma once

#include <algorithm>
#include <chrono>

#include "sluice/windows/trigger.hpp"

namespace sluice {

/// Fires a window early every `interval` of event time, and when the watermark passes its end
/// (Flink's ContinuousEventTimeTrigger): a running result of a long window.
class continuous_event_time_trigger {
public:
  /// The next early firing's time (min_timestamp: none registered yet).
  struct state_type {
    timestamp next = min_timestamp;
    friend constexpr bool operator==(const state_type&, const state_type&) = default;
  };

  explicit continuous_event_time_trigger(std::chrono::milliseconds interval)
    : interval_(interval.count()) {}

  trigger_result on_element(state_type& s, const time_window& w, timestamp time,
                            trigger_context& ctx) {
    if (w.max_timestamp() <= ctx.watermark())
      return trigger_result::fire;
    if (s.next == min_timestamp) {
      ctx.register_event_time_timer(w.max_timestamp());
      schedule(s, w, window_start(time, 0, interval_) + interval_, ctx);
    }
    return trigger_result::keep;
  }

  trigger_result on_event_time(state_type& s, const time_window& w, timestamp time,
                               trigger_context& ctx) {
    if (time == w.max_timestamp())
      return trigger_result::fire;
    if (time != s.next)
      return trigger_result::keep;
    schedule(s, w, time + interval_, ctx);
    return trigger_result::fire;
  }

  trigger_result on_processing_time(state_type&, const time_window&, timestamp, trigger_context&) {
    return trigger_result::keep;
  }

  void on_merge(state_type& s, const time_window& merged, trigger_context& ctx) {
    if (merged.max_timestamp() > ctx.watermark())
      ctx.register_event_time_timer(merged.max_timestamp());
    if (s.next != min_timestamp)
      ctx.register_event_time_timer(s.next);
  }

  void merge_state(state_type& into, const state_type& from) {
    if (into.next == min_timestamp || (from.next != min_timestamp && from.next < into.next))
      into.next = from.next;
  }

private:
  /// The next early firing at `time`, unless the window's end comes first.
  void schedule(state_type& s, const time_window& w, timestamp time, trigger_context& ctx) {
    s.next = std::min(time, w.max_timestamp());
    ctx.register_event_time_timer(s.next);
  }

  timestamp interval_;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f,
                                        continuous_event_time_trigger::state_type& x) {
  return f(caf::meta::type_name("sluice.continuous_event_time_trigger.state"), x.next);
}

} // namespace sluice
