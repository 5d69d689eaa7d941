#pragma once

#include <stdexcept>
#include <string>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/binary_deserializer.hpp>
#include <caf/binary_serializer.hpp>
#include <caf/detail/type_traits.hpp>

namespace sluice::detail {

/// Writes `msg` with CAF's binary serializer and reads it back: what crossing to another
/// process does to a message (`runtime_config::serialize_messages`).
/// @throws std::logic_error if the message does not survive it.
template <class T>
T round_trip(caf::actor_system& system, const T& msg) {
  static_assert(caf::detail::is_serializable<T>::value,
                "a message between Sluice actors must be serializable with CAF's inspectors");
  std::vector<char> bytes;
  caf::binary_serializer sink{system, bytes};
  if (auto err = sink(const_cast<T&>(msg)))
    throw std::logic_error("cannot serialize a message: " + system.render(err));
  T copy;
  caf::binary_deserializer source{system, bytes};
  if (auto err = source(copy))
    throw std::logic_error("cannot deserialize a message: " + system.render(err));
  return copy;
}

} // namespace sluice::detail
