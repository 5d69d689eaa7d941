#pragma once

#include "sluice/time_domain.hpp"
#include "sluice/windows/event_time_trigger.hpp"
#include "sluice/windows/processing_time_trigger.hpp"

namespace sluice {

/// The trigger of a time window no trigger was given: an event_time_trigger for event-time
/// windows, a processing_time_trigger for processing-time ones (the clock is the window's, set
/// when the windowed stream is made).
class default_trigger {
public:
  using state_type = timer_registered;

  explicit default_trigger(time_domain domain) : domain_(domain) {}

  trigger_result on_element(state_type& s, const time_window& w, timestamp time,
                            trigger_context& ctx) {
    return event_time() ? event_.on_element(s, w, time, ctx)
                        : processing_.on_element(s, w, time, ctx);
  }
  trigger_result on_event_time(state_type& s, const time_window& w, timestamp time,
                               trigger_context& ctx) {
    return event_time() ? event_.on_event_time(s, w, time, ctx)
                        : processing_.on_event_time(s, w, time, ctx);
  }
  trigger_result on_processing_time(state_type& s, const time_window& w, timestamp time,
                                    trigger_context& ctx) {
    return event_time() ? event_.on_processing_time(s, w, time, ctx)
                        : processing_.on_processing_time(s, w, time, ctx);
  }
  void on_merge(state_type& s, const time_window& merged, trigger_context& ctx) {
    if (event_time())
      event_.on_merge(s, merged, ctx);
    else
      processing_.on_merge(s, merged, ctx);
  }
  void merge_state(state_type&, const state_type&) {}

private:
  [[nodiscard]] bool event_time() const noexcept { return domain_ == time_domain::event_time; }

  time_domain domain_;
  event_time_trigger event_;
  processing_time_trigger processing_;
};

} // namespace sluice
