#pragma once

#include <optional>
#include <string>

#include "sluice/time_domain.hpp"
#include "sluice/windows/time_window.hpp"
#include "sluice/windows/trigger.hpp"

namespace sluice {

/// One window per key that holds every record and never ends (Flink's GlobalWindows): only a
/// trigger fires it (a count trigger, say), and its state is never cleaned up by time.
class global_window {
public:
  /// The window: all of time.
  static constexpr time_window all_time{min_timestamp, max_timestamp};

  [[nodiscard]] time_domain domain() const noexcept { return time_domain::event_time; }

  static constexpr bool merging = false;

  [[nodiscard]] std::optional<std::string> problem() const { return std::nullopt; }

  template <class T, class Each>
  void assign(const T& /*value*/, timestamp /*time*/, Each&& each) const {
    each(all_time);
  }
};

/// Never fires (Flink's NeverTrigger): the default of the global window, which only a trigger
/// of the user's fires.
class never_trigger {
public:
  using state_type = no_trigger_state;

  trigger_result on_element(state_type&, const time_window&, timestamp, trigger_context&) {
    return trigger_result::keep;
  }
  trigger_result on_event_time(state_type&, const time_window&, timestamp, trigger_context&) {
    return trigger_result::keep;
  }
  trigger_result on_processing_time(state_type&, const time_window&, timestamp, trigger_context&) {
    return trigger_result::keep;
  }
  void on_merge(state_type&, const time_window&, trigger_context&) {}
  void merge_state(state_type&, const state_type&) {}
};

} // namespace sluice
