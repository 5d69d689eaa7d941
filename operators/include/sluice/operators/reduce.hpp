#pragma once

#include <functional>
#include <optional>
#include <utility>

namespace sluice {

/// The aggregate function of `reduce(fn)`: folds the records of a key with `fn(T, T) -> T`.
template <class T, class F>
class reduce_function {
public:
  using input_type = T;
  using accumulator_type = std::optional<T>;
  using result_type = T;

  explicit reduce_function(F fn) : fn_(std::move(fn)) {}

  std::optional<T> create() const { return std::nullopt; }

  void add(std::optional<T>& acc, const T& value) const {
    if (acc)
      acc = std::invoke(fn_, std::move(*acc), value);
    else
      acc = value;
  }

  void merge(std::optional<T>& acc, std::optional<T>&& other) const {
    if (other)
      add(acc, *other);
  }

  T result(const std::optional<T>& acc) const { return *acc; }

private:
  F fn_;
};

} // namespace sluice
