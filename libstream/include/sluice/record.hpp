#pragma once

#include <cstdint>
#include <limits>
#include <type_traits>
#include <utility>
#include <vector>

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/detail/type_traits.hpp>
#include <caf/meta/type_name.hpp>

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
  return f(caf::meta::type_name("sluice.batch"), x.channel, x.seq, x.records, x.incarnation);
}

} // namespace sluice

namespace caf {

// Records of a type without an `inspect` overload still travel between local actors; only
// crossing a node boundary needs serialization.
template <class T>
struct allowed_unsafe_message_type<sluice::batch<T>>
  : std::bool_constant<!sluice::serializable<T>> {};

} // namespace caf
