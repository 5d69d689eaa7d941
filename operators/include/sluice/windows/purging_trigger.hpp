#pragma once

#include <utility>

#include "sluice/windows/trigger.hpp"

namespace sluice {

/// Makes every firing of `Inner` also purge the window (Flink's PurgingTrigger): the window
/// starts afresh after each result, as a count window does.
template <class Inner>
class purging_trigger {
public:
  using state_type = typename Inner::state_type;

  explicit purging_trigger(Inner inner) : inner_(std::move(inner)) {}

  trigger_result on_element(state_type& s, const time_window& w, timestamp time,
                            trigger_context& ctx) {
    return purging(inner_.on_element(s, w, time, ctx));
  }
  trigger_result on_event_time(state_type& s, const time_window& w, timestamp time,
                               trigger_context& ctx) {
    return purging(inner_.on_event_time(s, w, time, ctx));
  }
  trigger_result on_processing_time(state_type& s, const time_window& w, timestamp time,
                                    trigger_context& ctx) {
    return purging(inner_.on_processing_time(s, w, time, ctx));
  }
  void on_merge(state_type& s, const time_window& w, trigger_context& ctx) {
    inner_.on_merge(s, w, ctx);
  }
  void merge_state(state_type& into, const state_type& from) { inner_.merge_state(into, from); }

private:
  static trigger_result purging(trigger_result r) {
    return fires(r) ? trigger_result::fire_and_purge : r;
  }

  Inner inner_;
};

} // namespace sluice
