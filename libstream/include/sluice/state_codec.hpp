#pragma once

#include <cstddef>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <caf/binary_deserializer.hpp>
#include <caf/binary_serializer.hpp>
#include <caf/detail/type_traits.hpp>

#include "sluice/error.hpp"

namespace sluice {

/// Thrown when stored state cannot be decoded as the type asked for.
class state_codec_error : public failure {
public:
  explicit state_codec_error(const std::string& message, std::string subject = {})
    : failure(errc::state, message, std::move(subject)) {}
};

/// Encodes keys and values of keyed state to bytes, for the LMDB backend.
class state_writer {
public:
  explicit state_writer(std::vector<char>& out) : sink_(nullptr, out) {}

  template <class T>
  void write(const T& value);

private:
  caf::binary_serializer sink_;
};

/// Decodes what a state_writer wrote.
class state_reader {
public:
  state_reader(const char* data, size_t size) : source_(nullptr, data, size) {}

  template <class T>
  void read(T& value);

  [[nodiscard]] size_t remaining() const noexcept { return source_.remaining(); }

private:
  caf::binary_deserializer source_;
};

/// Types keyed state can store outside memory: anything CAF can serialize (standard types,
/// and types with an `inspect` overload), `std::optional` of those, and types with
/// `sluice_encode(state_writer&, const T&)` and `sluice_decode(state_reader&, T&)` found by ADL.
template <class T>
concept storable = requires(state_writer& w, state_reader& r, const T& in, T& out) {
  sluice_encode(w, in);
  sluice_decode(r, out);
}
|| caf::detail::is_serializable<T>::value || (requires {
  typename T::value_type;
} && std::is_same_v<T, std::optional<typename T::value_type>>);

template <class T>
void state_writer::write(const T& value) {
  if constexpr (requires { sluice_encode(*this, value); }) {
    sluice_encode(*this, value);
  } else if constexpr (caf::detail::is_serializable<T>::value) {
    if (auto err = sink_(const_cast<T&>(value)))
      throw state_codec_error("cannot encode a state entry: " + caf::to_string(err));
  } else {
    write(value.has_value());
    if (value)
      write(*value);
  }
}

template <class T>
void state_reader::read(T& value) {
  if constexpr (requires { sluice_decode(*this, value); }) {
    sluice_decode(*this, value);
  } else if constexpr (caf::detail::is_serializable<T>::value) {
    if (auto err = source_(value))
      throw state_codec_error("cannot decode a state entry: " + caf::to_string(err));
  } else {
    bool present = false;
    read(present);
    if (!present) {
      value.reset();
      return;
    }
    typename T::value_type inner{};
    read(inner);
    value = std::move(inner);
  }
}

/// `value` as bytes.
template <storable T>
std::vector<char> encode_state(const T& value) {
  std::vector<char> out;
  state_writer w{out};
  w.write(value);
  return out;
}

/// The T in `bytes`; throws state_codec_error if they do not hold exactly one T.
template <storable T>
T decode_state(const char* data, size_t size) {
  T value{};
  state_reader r{data, size};
  r.read(value);
  if (r.remaining() != 0)
    throw state_codec_error("a state entry has " + std::to_string(r.remaining())
                            + " bytes more than its type");
  return value;
}

} // namespace sluice
