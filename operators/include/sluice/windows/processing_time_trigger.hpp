#pragma once

#include "sluice/windows/trigger.hpp"

namespace sluice {

/// Fires a window once the instance's clock passes its end (Flink's ProcessingTimeTrigger), the
/// default of processing-time windows.
class processing_time_trigger {
public:
  /// Whether the window's timer is registered.
  struct state_type {
    bool timer = false;
    friend constexpr bool operator==(const state_type&, const state_type&) = default;
  };

  trigger_result on_element(state_type& s, const time_window& w, timestamp /*time*/,
                            trigger_context& ctx) {
    if (!s.timer) {
      ctx.register_processing_time_timer(w.max_timestamp());
      s.timer = true;
    }
    return trigger_result::keep;
  }

  trigger_result on_event_time(state_type&, const time_window&, timestamp, trigger_context&) {
    return trigger_result::keep;
  }

  trigger_result on_processing_time(state_type&, const time_window& w, timestamp time,
                                    trigger_context&) {
    return time == w.max_timestamp() ? trigger_result::fire : trigger_result::keep;
  }

  void on_merge(state_type& s, const time_window& merged, trigger_context& ctx) {
    ctx.register_processing_time_timer(merged.max_timestamp());
    s.timer = true;
  }

  void merge_state(state_type&, const state_type&) {}
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, processing_time_trigger::state_type& x) {
  return f(caf::meta::type_name("sluice.processing_time_trigger.state"), x.timer);
}

} // namespace sluice
