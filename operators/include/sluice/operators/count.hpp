#pragma once

#include <cstdint>

namespace sluice {

/// The aggregate function of `count()`: the number of records per key.
template <class T>
struct count_function {
  using input_type = T;
  using accumulator_type = int64_t;
  using result_type = int64_t;

  int64_t create() const { return 0; }
  void add(int64_t& acc, const T&) const { ++acc; }
  void merge(int64_t& acc, int64_t other) const { acc += other; }
  int64_t result(int64_t acc) const { return acc; }
};

} // namespace sluice
