#pragma once

#include "sluice/windows/trigger.hpp"

namespace sluice {

/// Fires a window once the instance's clock passes its end (Flink's ProcessingTimeTrigger), the
/// default of processing-time windows.
class processing_time_trigger {
public:
  using state_type = timer_registered;

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

} // namespace sluice
