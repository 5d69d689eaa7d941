#pragma once

#include <functional>
#include <type_traits>

#include "sluice/key_group.hpp"

namespace sluice {

/// The key type a key function returns for records of type T.
template <class KeyFn, class T>
using key_type_of = std::decay_t<std::invoke_result_t<const KeyFn&, const T&>>;

/// A callable usable as key function on a stream of T: `fn(const T&) -> K` with a stable hash.
template <class KeyFn, class T>
concept key_function =
  std::is_invocable_v<const KeyFn&, const T&> && hashable_key<key_type_of<KeyFn, T>>;

/// Whether a key function object is empty (a default-constructed std::function).
template <class KeyFn>
bool is_empty_key_function(const KeyFn& fn) {
  if constexpr (requires { static_cast<bool>(fn); } && !std::is_empty_v<KeyFn>)
    return !static_cast<bool>(fn);
  return false;
}

} // namespace sluice
