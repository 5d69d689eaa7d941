#pragma once

#include <cstdint>
#include <ostream>

#include <caf/meta/type_name.hpp>

#include "sluice/windows/time_window.hpp"

namespace sluice {

/// The key of `window_all`: one for every record.
struct all_records {
  friend constexpr bool operator==(const all_records&, const all_records&) = default;
};

inline uint64_t sluice_hash(const all_records&) noexcept {
  return 0;
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, all_records&) {
  return f(caf::meta::type_name("sluice.all_records"));
}

/// The result of one window of one key, as an incremental window function (reduce, aggregate)
/// emits it: stamped with the window's `max_timestamp()`.
template <class K, class V>
struct window_result {
  K key;
  time_window window;
  V value;

  friend bool operator==(const window_result&, const window_result&) = default;

  /// "key [start, end) value", as the printing and file sinks write it.
  friend std::ostream& operator<<(std::ostream& os, const window_result& r) requires
    requires(const K& k, const V& v) {
    os << k << v;
  }
  { return os << r.key << " [" << r.window.start << ", " << r.window.end << ") " << r.value; }
};

template <class Inspector, class K, class V>
typename Inspector::result_type inspect(Inspector& f, window_result<K, V>& x) {
  return f(caf::meta::type_name("sluice.window_result"), x.key, x.window, x.value);
}

} // namespace sluice
