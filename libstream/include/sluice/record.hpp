#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <type_traits>
#include <utility>
#include <vector>

#include <caf/detail/scope_guard.hpp>
#include <caf/detail/type_traits.hpp>
#include <caf/meta/type_name.hpp>
#include <caf/optional.hpp>

namespace sluice {

/// Event time in milliseconds since the epoch (Kafka's and Flink's unit).
using timestamp = int64_t;

/// The smallest timestamp: a watermark that has not yet advanced.
inline constexpr timestamp min_timestamp = std::numeric_limits<timestamp>::min();

/// The largest timestamp: the watermark of an input that has ended.
inline constexpr timestamp max_timestamp = std::numeric_limits<timestamp>::max();

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
  return f(caf::meta::type_name("sluice.batch"), x.channel, x.seq, x.records, x.incarnation,
           x.sender_waits);
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

} // namespace caf
