#pragma once

#include <algorithm>
#include <cstddef>
#include <utility>
#include <vector>

#include "sluice/record.hpp"

namespace sluice {

/// Where an operator's records go: a small buffer that hands what it collects, a run at a time,
/// to whatever its owner bound it to.
///
/// An operator does not know where that is: the output channels of its host in a job, a plain
/// vector in the operator test harness. Emitting stays an inlined append; the hand-over, once
/// per run of records, is one indirect call. The owner calls `drain` after every hook so that
/// nothing stays behind.
template <class Out>
class collector {
public:
  /// Takes every record of `records` and leaves it empty (its capacity may stay).
  using sink_function = void (*)(void* sink, std::vector<record<Out>>& records);

  /// Records collected before a hand-over, unless the owner asks for other runs.
  static constexpr size_t default_run_length = 256;

  /// Binds the collector to `sink`, any object with `emit_batch(std::vector<record<Out>>&)`,
  /// handing it runs of `run_length` records. (A host asks for runs of its batch size: an
  /// output channel then takes a whole run as its next batch, without moving a record.)
  template <class Sink>
  void bind(Sink& sink, size_t run_length = default_run_length) noexcept {
    run_length_ = std::max<size_t>(run_length, 1);
    sink_ = &sink;
    take_ = [](void* s, std::vector<record<Out>>& records) {
      static_cast<Sink*>(s)->emit_batch(records);
    };
  }

  /// Collects one record.
  void emit(Out&& value, timestamp time) {
    buffer_.emplace_back(std::move(value), time); // built in place: one move of the value
    if (buffer_.size() >= run_length_) [[unlikely]]
      drain();
  }

  /// Hands a whole vector of records over behind those collected; `records` is left empty.
  void emit_batch(std::vector<record<Out>>&& records) {
    drain();
    take_(sink_, records);
  }

  /// Hands over what was collected.
  void drain() {
    if (buffer_.empty())
      return;
    take_(sink_, buffer_);
    if (buffer_.capacity() < run_length_) [[unlikely]]
      buffer_.reserve(run_length_); // the sink took the vector itself
  }

private:
  std::vector<record<Out>> buffer_;
  size_t run_length_ = default_run_length;
  void* sink_ = nullptr;
  sink_function take_ = nullptr;
};

} // namespace sluice
