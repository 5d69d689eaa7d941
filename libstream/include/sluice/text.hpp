#pragma once

#include <concepts>
#include <ostream>
#include <sstream>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

namespace sluice {

/// A string, a number, or a type with `operator<<`.
template <class T>
concept text_renderable_value =
  std::is_convertible_v<const T&, std::string_view> || std::is_arithmetic_v<T> || requires(
    const T& value, std::ostream& os) {
  os << value;
};

/// The types `to_text` renders: those values, and pairs of them.
template <class T>
concept text_renderable = text_renderable_value<T> || requires(const T& value) {
  requires text_renderable_value<std::decay_t<decltype(value.first)>>;
  requires text_renderable_value<std::decay_t<decltype(value.second)>>;
};

/// Renders a record as one line of text, for the printing and file sinks.
///
/// Strings print as they are, numbers as `std::to_string` would, pairs as `key,value`, and any
/// other type through its `operator<<`.
template <class T>
std::string to_text(const T& value) {
  if constexpr (std::is_convertible_v<const T&, std::string_view>) {
    return std::string{std::string_view{value}};
  } else if constexpr (std::is_same_v<T, bool>) {
    return value ? "true" : "false";
  } else if constexpr (std::is_arithmetic_v<T>) {
    return std::to_string(value);
  } else if constexpr (requires {
                         value.first;
                         value.second;
                       }) {
    return to_text(value.first) + "," + to_text(value.second);
  } else {
    static_assert(
      requires(std::ostream & os) { os << value; },
      "sluice::to_text: the record type needs operator<< (or pass a formatter)");
    std::ostringstream os;
    os << value;
    return os.str();
  }
}

} // namespace sluice
