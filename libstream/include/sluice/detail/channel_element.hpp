#pragma once

#include <cstdint>
#include <variant>
#include <vector>

#include "sluice/messages.hpp"
#include "sluice/record.hpp"

namespace sluice::detail {

/// A control marker travelling in order with the records of a channel.
using channel_marker =
  std::variant<watermark_msg, idle_msg, end_of_stream_msg, barrier_msg, cancel_msg>;

/// A run of a channel's elements as an output keeps them: records, or one marker.
template <class T>
using channel_segment = std::variant<std::vector<record<T>>, channel_marker>;

/// The records a segment holds (a marker holds none).
template <class T>
uint64_t records_in(const channel_segment<T>& s) noexcept {
  if (const auto* records = std::get_if<std::vector<record<T>>>(&s))
    return records->size();
  return 0;
}

/// The first `n` of `records`, removed from it.
template <class T>
std::vector<record<T>> take_front(std::vector<record<T>>& records, size_t n) {
  std::vector<record<T>> front;
  if (n == records.size()) {
    front = std::move(records);
    records = {};
    return front;
  }
  front.reserve(n);
  std::move(records.begin(), records.begin() + static_cast<std::ptrdiff_t>(n),
            std::back_inserter(front));
  records.erase(records.begin(), records.begin() + static_cast<std::ptrdiff_t>(n));
  return front;
}

} // namespace sluice::detail

namespace sluice::detail {

/// An element arriving on an input channel of an instance reading In.
template <class In>
using input_event =
  std::variant<batch<In>, watermark_msg, idle_msg, end_of_stream_msg, barrier_msg, cancel_msg>;

/// The input channel an element arrived on.
template <class In>
channel_index channel_of(const input_event<In>& e) noexcept {
  return std::visit([](const auto& x) { return x.channel; }, e);
}

} // namespace sluice::detail
