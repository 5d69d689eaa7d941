#pragma once

#include <chrono>
#include <cstdint>
#include <limits>
#include <optional>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include <caf/deserializer.hpp>
#include <caf/detail/scope_guard.hpp>
#include <caf/detail/type_traits.hpp>
#include <caf/error.hpp>
#include <caf/meta/type_name.hpp>
#include <caf/optional.hpp>
#include <caf/sec.hpp>
#include <caf/serializer.hpp>

#include "sluice/detail/wire_codec.hpp"

namespace sluice {

/// Event time in milliseconds since the epoch (Kafka's and Flink's unit).
using timestamp = int64_t;

/// The smallest timestamp: a watermark that has not yet advanced.
inline constexpr timestamp min_timestamp = std::numeric_limits<timestamp>::min();

/// The largest timestamp: the watermark of an input that has ended.
inline constexpr timestamp max_timestamp = std::numeric_limits<timestamp>::max();

/// The watermark behind `newest`, the largest event time seen, that lets records up to `delay`
/// older than it through: `newest - delay - 1`, since a watermark t says that no record at or
/// before t is still to come (Flink's convention). min_timestamp if that lies below it.
inline constexpr timestamp watermark_behind(timestamp newest, timestamp delay) {
  timestamp behind = 0;
  if (__builtin_sub_overflow(newest, delay, &behind))
    return delay > 0 ? min_timestamp : max_timestamp - 1;
  return behind == min_timestamp ? min_timestamp : behind - 1;
}

/// The wall clock as a timestamp: milliseconds since the epoch.
inline timestamp wall_clock_now() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

/// One element of a stream: a value and its event timestamp.
template <class T>
struct record {
  T value;
  timestamp time = 0;
};

/// Identifies one input channel of a downstream instance.
using channel_index = uint32_t;

/// The unit of data on a channel: consecutive records with the sequence number of the first.
///
/// A batch travels from one upstream instance to one downstream instance. `seq` counts the
/// elements (records and markers) sent on the channel before this batch, so a receiver can tell
/// replays from new data; `incarnation` tells which incarnation of the upstream instance sent
/// it (it grows with each restart).
template <class T>
struct batch {
  channel_index channel = 0;
  uint64_t seq = 0;
  std::vector<record<T>> records;
  uint32_t incarnation = 0;
  /// The sender has less credit left than a full batch: it waits for more (see
  /// `detail::input_gate`, which grows the window of a starved receiver).
  bool sender_waits = false;
};

/// Types CAF can serialize: records of them can cross a node boundary.
template <class T>
concept serializable = caf::detail::is_serializable<T>::value;

template <class Inspector, serializable T>
typename Inspector::result_type inspect(Inspector& f, record<T>& x) {
  return f(caf::meta::type_name("sluice.record"), x.value, x.time);
}

template <class Inspector, serializable T>
typename Inspector::result_type inspect(Inspector& f, batch<T>& x) {
  // Records of the common types go as one block (detail/wire_codec.hpp), others field by field.
  constexpr bool writes_block =
    detail::wire_codable<T> && std::is_base_of_v<caf::serializer, Inspector>;
  constexpr bool reads_block =
    detail::wire_codable<T> && std::is_base_of_v<caf::deserializer, Inspector>;
  if constexpr (writes_block || reads_block) {
    // One buffer per thread: a batch is written or read whole before the next one.
    thread_local std::vector<char> block;
    if constexpr (writes_block)
      detail::wire_encode(block, x.records);
    if (auto err = f(caf::meta::type_name("sluice.batch"), x.channel, x.seq, block, x.incarnation,
                     x.sender_waits))
      return err;
    if constexpr (reads_block)
      if (!detail::wire_decode(block, x.records))
        return caf::make_error(caf::sec::invalid_argument, "a malformed batch of records");
    return {};
  } else {
    return f(caf::meta::type_name("sluice.batch"), x.channel, x.seq, x.records, x.incarnation,
             x.sender_waits);
  }
}

} // namespace sluice

namespace caf {

// CAF 0.17 cannot serialize std::optional, which records and accumulators often hold (reduce's
// accumulator is one). These overloads live in CAF's namespace so that argument-dependent lookup
// finds them through CAF's inspector types; they write a flag and, if set, the value.

template <class Inspector, class T>
std::enable_if_t<Inspector::reads_state, typename Inspector::result_type> inspect(
  Inspector& f, std::optional<T>& x) {
  return x ? f(true, *x) : f(false);
}

template <class Inspector, class T>
std::enable_if_t<Inspector::writes_state, typename Inspector::result_type> inspect(
  Inspector& f, std::optional<T>& x) {
  bool flag = false;
  T value{};
  optional_inspect_helper<T> helper{flag, value};
  auto guard = detail::make_scope_guard([&] {
    if (flag)
      x = std::move(value);
    else
      x.reset();
  });
  return f(flag, helper);
}

// Nor std::variant, which the records of a two-input operator are (one alternative per input):
// the index, then the value.

template <class Inspector, class... Ts>
std::enable_if_t<Inspector::reads_state, typename Inspector::result_type> inspect(
  Inspector& f, std::variant<Ts...>& x) {
  auto index = static_cast<uint8_t>(x.index());
  return std::visit([&](auto& value) { return f(index, value); }, x);
}

/// Loads the alternative of a variant whose index was read just before.
template <class... Ts>
struct variant_inspect_helper {
  uint8_t& index;
  std::variant<Ts...>& target;

  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f, variant_inspect_helper& x) {
    return x.load<0>(f);
  }

  template <size_t I, class Inspector>
  typename Inspector::result_type load(Inspector& f) {
    if constexpr (I < sizeof...(Ts)) {
      if (index != I)
        return load<I + 1>(f);
      std::variant_alternative_t<I, std::variant<Ts...>> value{};
      auto guard = detail::make_scope_guard([&] { target.template emplace<I>(std::move(value)); });
      return f(value);
    } else {
      return sec::invalid_argument; // an index the variant does not have
    }
  }
};

template <class Inspector, class... Ts>
std::enable_if_t<Inspector::writes_state, typename Inspector::result_type> inspect(
  Inspector& f, std::variant<Ts...>& x) {
  uint8_t index = 0;
  variant_inspect_helper<Ts...> helper{index, x};
  return f(index, helper);
}

} // namespace caf
