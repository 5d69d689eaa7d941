#pragma once

#include <cstdint>

#include "sluice/windows/trigger.hpp"

namespace sluice {

/// Fires a window at every `count`-th record it receives (Flink's CountTrigger); with
/// `purging_trigger` around it, a count window.
class count_trigger {
public:
  /// Records since the window last fired.
  struct state_type {
    uint64_t count = 0;
    friend constexpr bool operator==(const state_type&, const state_type&) = default;
  };

  explicit count_trigger(uint64_t count) : count_(count) {}

  trigger_result on_element(state_type& s, const time_window&, timestamp, trigger_context&) {
    if (++s.count < count_)
      return trigger_result::keep;
    s.count = 0;
    return trigger_result::fire;
  }
  trigger_result on_event_time(state_type&, const time_window&, timestamp, trigger_context&) {
    return trigger_result::keep;
  }
  trigger_result on_processing_time(state_type&, const time_window&, timestamp, trigger_context&) {
    return trigger_result::keep;
  }
  void on_merge(state_type&, const time_window&, trigger_context&) {}
  void merge_state(state_type& into, const state_type& from) { into.count += from.count; }

private:
  uint64_t count_;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, count_trigger::state_type& x) {
  return f(caf::meta::type_name("sluice.count_trigger.state"), x.count);
}

} // namespace sluice
