#pragma once

// How a record's key or value becomes bytes and back, for the Kafka bridges: text, raw bytes, and
// JSON through Boost.JSON (a boost::json::value, or any type with value_from / value_to).

#include <concepts>
#include <cstddef>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <caf/error.hpp>
#include <caf/meta/load_callback.hpp>
#include <caf/meta/type_name.hpp>
#include <caf/sec.hpp>

#include <boost/json.hpp>

#include "sluice/error.hpp"

namespace sluice {

/// Bytes that do not decode: the message says what was wrong and where.
class serde_error : public failure {
public:
  explicit serde_error(const std::string& message) : failure(errc::io, message) {}
};

/// Turns values of `value_type` into bytes and back; `decode` throws serde_error on bytes that
/// are not a value.
template <class S>
concept serde = requires(const S& s, const typename S::value_type& v, std::string_view bytes) {
  { s.encode(v) } -> std::same_as<std::string>;
  { s.decode(bytes) } -> std::same_as<typename S::value_type>;
};

/// Text, byte for byte (Kafka's StringSerializer with UTF-8: no check either way).
struct string_serde {
  using value_type = std::string;

  [[nodiscard]] std::string encode(const std::string& v) const { return v; }
  [[nodiscard]] std::string decode(std::string_view bytes) const { return std::string{bytes}; }
};

/// Raw bytes.
struct bytes_serde {
  using value_type = std::vector<std::byte>;

  [[nodiscard]] std::string encode(const std::vector<std::byte>& v) const {
    return {reinterpret_cast<const char*>(v.data()), v.size()};
  }
  [[nodiscard]] std::vector<std::byte> decode(std::string_view bytes) const {
    const auto* first = reinterpret_cast<const std::byte*>(bytes.data());
    return {first, first + bytes.size()};
  }
};

namespace detail {

/// The start of `bytes` as printable text, for error messages.
std::string excerpt(std::string_view bytes);

/// Parses one JSON document that must fill `bytes`; throws serde_error naming the byte offset
/// where it stopped being JSON.
boost::json::value parse_json(std::string_view bytes);

} // namespace detail

/// JSON text of a T: a boost::json::value, or any type Boost.JSON converts (value_from on
/// encode, value_to on decode, e.g. through tag_invoke or Boost.Describe).
template <class T = boost::json::value>
struct json_serde {
  using value_type = T;

  [[nodiscard]] std::string encode(const T& v) const {
    return boost::json::serialize(boost::json::value_from(v));
  }

  [[nodiscard]] T decode(std::string_view bytes) const {
    auto json = detail::parse_json(bytes);
    if constexpr (std::is_same_v<T, boost::json::value>) {
      return json;
    } else {
      try {
        return boost::json::value_to<T>(json);
      } catch (const std::exception& e) {
        throw serde_error("JSON does not convert to the record type: " + std::string{e.what()}
                          + " in " + detail::excerpt(bytes));
      }
    }
  }
};

/// Values of `Serde`, or none: the Kafka bridges read a message without a value (a null payload,
/// a tombstone) as none and write none as one; a value's bytes are `Serde`'s. A table read from
/// or written to a compacted topic has nullable values (kafka_table).
template <serde Serde>
struct nullable {
  using value_type = std::optional<typename Serde::value_type>;

  Serde inner{};

  /// @throws serde_error for none, which has bytes only as a Kafka tombstone.
  [[nodiscard]] std::string encode(const value_type& v) const {
    if (!v)
      throw serde_error("no value to encode: none is written only as a Kafka tombstone");
    return inner.encode(*v);
  }
  [[nodiscard]] value_type decode(std::string_view bytes) const { return inner.decode(bytes); }
};

template <class S>
inline constexpr bool is_nullable_serde = false;

template <class Serde>
inline constexpr bool is_nullable_serde<nullable<Serde>> = true;

/// In place of a key serde: Kafka messages without keys (written with none, read ignoring theirs).
struct no_key {};

/// The record that a Kafka bridge with these serdes reads or writes: the value, or the key and
/// the value.
template <class KeySerde, class ValueSerde>
struct message_record {
  using type = std::pair<typename KeySerde::value_type, typename ValueSerde::value_type>;
};

template <class ValueSerde>
struct message_record<no_key, ValueSerde> {
  using type = typename ValueSerde::value_type;
};

static_assert(
  serde<
    string_serde> && serde<bytes_serde> && serde<json_serde<>> && serde<nullable<string_serde>>);

} // namespace sluice

namespace boost::json {

/// Lets records of JSON values cross to another process: CAF's inspectors (found by
/// argument-dependent lookup, hence this namespace) write a value as its JSON text.
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, value& x) {
  std::string text;
  if constexpr (Inspector::reads_state)
    text = serialize(x);
  auto load = caf::meta::load_callback([&]() -> caf::error {
    boost::system::error_code ec;
    x = parse(text, ec);
    if (ec)
      return caf::make_error(caf::sec::invalid_argument, "not JSON: " + ec.message());
    return caf::none;
  });
  return f(caf::meta::type_name("json"), text, load);
}

} // namespace boost::json
