#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <vector>

#include <caf/meta/type_name.hpp>

#include "sluice/record.hpp"

namespace sluice {

/// The records of a window, in the order they came: values and their event times.
template <class T>
struct window_elements {
  std::vector<T> values;
  std::vector<timestamp> times;

  /// Keeps the elements from `first` on.
  void drop_front(size_t first) {
    values.erase(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(first));
    times.erase(times.begin(), times.begin() + static_cast<std::ptrdiff_t>(first));
  }

  friend bool operator==(const window_elements&, const window_elements&) = default;
};

template <class Inspector, class T>
typename Inspector::result_type inspect(Inspector& f, window_elements<T>& x) {
  return f(caf::meta::type_name("sluice.window_elements"), x.values, x.times);
}

/// Removes elements from a window before its function sees them (Flink's Evictor, evicting
/// before the function): `evict(elements)`. What it removes is gone from the window's state.
struct no_evictor {
  template <class T>
  void evict(window_elements<T>&) const {}
};

/// Keeps the last `count` elements of a window (Flink's CountEvictor).
struct count_evictor {
  size_t count;

  template <class T>
  void evict(window_elements<T>& e) const {
    if (e.values.size() > count)
      e.drop_front(e.values.size() - count);
  }
};

/// Keeps the elements at most `span` older than the window's latest (Flink's TimeEvictor).
struct time_evictor {
  std::chrono::milliseconds span;

  template <class T>
  void evict(window_elements<T>& e) const {
    if (e.times.empty())
      return;
    auto latest = *std::max_element(e.times.begin(), e.times.end());
    auto keep = [&](timestamp t) { return t >= latest - span.count(); };
    size_t kept = 0;
    for (size_t i = 0; i < e.values.size(); ++i)
      if (keep(e.times[i])) {
        e.values[kept] = std::move(e.values[i]);
        e.times[kept] = e.times[i];
        ++kept;
      }
    e.values.erase(e.values.begin() + static_cast<std::ptrdiff_t>(kept), e.values.end());
    e.times.erase(e.times.begin() + static_cast<std::ptrdiff_t>(kept), e.times.end());
  }
};

} // namespace sluice
