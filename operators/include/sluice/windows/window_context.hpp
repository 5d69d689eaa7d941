#pragma once

#include "sluice/operators/emitter.hpp"
#include "sluice/record.hpp"

namespace sluice {

/// What a window function is handed as it fires (Flink's ProcessWindowFunction.Context): an
/// emitter for its results, which are stamped with the window's max_timestamp(), and the
/// instance's clocks at the firing. A function that only emits may take it as `emitter<Out>&`.
template <class Out>
class window_context : public emitter<Out> {
public:
  using emitter<Out>::emitter;

  /// The instance's watermark as the window fires: past the window's end for the event-time
  /// trigger's firing, below it for an early (continuous, count) firing, and past it again
  /// for a late record's firing within the allowed lateness. min_timestamp before the first
  /// watermark; max_timestamp at the end of a bounded input.
  [[nodiscard]] timestamp watermark() const noexcept { return this->ctx_->watermark(); }

  /// The instance's processing time as the window fires, in ms since the epoch (the clock the
  /// processing-time windows and triggers use; replayed alike after a failure).
  [[nodiscard]] timestamp current_processing_time() const noexcept {
    return this->ctx_->current_processing_time();
  }

  /// The event time the results are stamped with: the window's max_timestamp().
  [[nodiscard]] timestamp current_time() const noexcept { return this->ctx_->current_time(); }
};

} // namespace sluice
