#pragma once

#include <functional>
#include <type_traits>
#include <variant>

#include "sluice/operators/key_by.hpp"

namespace sluice::detail {

/// The key of a record of either input of a keyed two-input operator, whose inputs are keyed by
/// `first(const A&)` and `second(const B&)` to one key type: by reference when both key
/// functions return the key by one reference type, else by value.
template <class A, class KeyA, class B, class KeyB>
struct two_input_key {
  using key_type = key_type_of<KeyA, A>;
  using first_result = std::invoke_result_t<const KeyA&, const A&>;
  using result_type =
    std::conditional_t<std::is_same_v<first_result, std::invoke_result_t<const KeyB&, const B&>>,
                       first_result, key_type>;

  result_type operator()(const std::variant<A, B>& x) const {
    if (x.index() == 0)
      return std::invoke(first, std::get<0>(x));
    return std::invoke(second, std::get<1>(x));
  }

  KeyA first;
  KeyB second;
};

} // namespace sluice::detail
