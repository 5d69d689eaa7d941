#pragma once

#include <concepts>

#include "sluice/record.hpp"
#include "sluice/time_domain.hpp"
#include "sluice/windows/time_window.hpp"

namespace sluice {

/// What a trigger decides for a window (Flink's TriggerResult): keep waiting, emit the window's
/// result, drop its contents, or both. A purged window starts afresh with its next record.
enum class trigger_result { keep, fire, purge, fire_and_purge };

[[nodiscard]] constexpr bool fires(trigger_result r) noexcept {
  return r == trigger_result::fire || r == trigger_result::fire_and_purge;
}

[[nodiscard]] constexpr bool purges(trigger_result r) noexcept {
  return r == trigger_result::purge || r == trigger_result::fire_and_purge;
}

/// What a trigger sees of the window operator: its clocks, and timers for the key of the window
/// at hand. A timer calls the trigger back for every window of that key (`on_event_time` /
/// `on_processing_time`), so a trigger checks that the time is one it asked for.
class trigger_context {
public:
  virtual ~trigger_context() = default;

  [[nodiscard]] virtual timestamp watermark() const = 0;
  [[nodiscard]] virtual timestamp processing_time() = 0;
  virtual void register_event_time_timer(timestamp time) = 0;
  virtual void register_processing_time_timer(timestamp time) = 0;
};

/// A trigger (Flink's Trigger): decides when a window emits its result. It keeps what it needs
/// per window in a `state_type` (an empty struct if nothing), which the window operator stores
/// with the window's contents in keyed state, so a trigger's state is checkpointed, restored and
/// rescaled with them.
///
/// - `on_element(state, window, time, ctx)`: a record at `time` joined the window;
/// - `on_event_time(state, window, time, ctx)`, `on_processing_time(...)`: a timer of the
///   window's key came due;
/// - `on_merge(state, merged, ctx)`: merging windows (sessions) became `merged`, whose `state` is
///   the sum of theirs as `merge_state(into, from)` made it.
template <class Tr>
concept trigger = requires(Tr& t, typename Tr::state_type& s, const typename Tr::state_type& from,
                           const time_window& w, timestamp time, trigger_context& ctx) {
  { t.on_element(s, w, time, ctx) } -> std::same_as<trigger_result>;
  { t.on_event_time(s, w, time, ctx) } -> std::same_as<trigger_result>;
  { t.on_processing_time(s, w, time, ctx) } -> std::same_as<trigger_result>;
  t.on_merge(s, w, ctx);
  t.merge_state(s, from);
};

/// The state of a trigger that registers one timer per window: whether it did.
struct timer_registered {
  bool timer = false;
  friend constexpr bool operator==(const timer_registered&, const timer_registered&) = default;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, timer_registered& x) {
  return f(caf::meta::type_name("sluice.timer_registered"), x.timer);
}

/// The state of a trigger that keeps none.
struct no_trigger_state {
  friend constexpr bool operator==(const no_trigger_state&, const no_trigger_state&) = default;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, no_trigger_state&) {
  return f(caf::meta::type_name("sluice.no_trigger_state"));
}

} // namespace sluice
