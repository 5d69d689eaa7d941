#pragma once

#include <algorithm>
#include <vector>

#include <absl/container/inlined_vector.h>

#include "sluice/record.hpp"
#include "sluice/state_codec.hpp"

namespace sluice::detail {

/// The pending timer times of one key, sorted, each once: the value of a timer table (see
/// timer_service). A key seldom has more than two timers pending, so two times are held in
/// place and only more take an allocation. Stored as a `std::vector<timestamp>` is.
class pending_times {
public:
  /// Adds `time`; false if it is pending already.
  bool add(timestamp time) {
    auto at = std::lower_bound(times_.begin(), times_.end(), time);
    if (at != times_.end() && *at == time)
      return false;
    times_.insert(at, time);
    return true;
  }

  /// Removes `time`; false if it was not pending.
  bool remove(timestamp time) {
    auto at = std::lower_bound(times_.begin(), times_.end(), time);
    if (at == times_.end() || *at != time)
      return false;
    times_.erase(at);
    return true;
  }

  [[nodiscard]] bool contains(timestamp time) const {
    return std::binary_search(times_.begin(), times_.end(), time);
  }

  [[nodiscard]] bool empty() const noexcept { return times_.empty(); }

  [[nodiscard]] std::vector<timestamp> to_vector() const { return {times_.begin(), times_.end()}; }

  friend bool operator==(const pending_times&, const pending_times&) = default;

  friend void sluice_encode(state_writer& w, const pending_times& p) { w.write(p.to_vector()); }

  friend void sluice_decode(state_reader& r, pending_times& p) {
    std::vector<timestamp> times;
    r.read(times);
    p.times_.assign(times.begin(), times.end());
  }

private:
  absl::InlinedVector<timestamp, 2> times_;
};

} // namespace sluice::detail
