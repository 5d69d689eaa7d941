#pragma once

#include <memory>
#include <mutex>
#include <utility>
#include <vector>

#include "sluice/context.hpp"
#include "sluice/interfaces.hpp"

namespace sluice::op {

/// A sink that appends every record's value to a vector the caller owns.
///
/// All instances append to the same vector under a lock, one batch at a time: the order within
/// an instance is kept, the interleaving of instances is not. The vector must outlive the run
/// and must not be read until `run()` returned.
template <class T>
class collect {
public:
  using input_type = T;
  using output_type = no_output;

  explicit collect(std::vector<T>& out) : target_(std::make_shared<target>(out)) {}

  void on_batch(std::vector<record<T>>& records, context<no_output>&) {
    std::lock_guard<std::mutex> guard{target_->mutex};
    for (auto& r : records)
      target_->out.push_back(std::move(r.value));
  }

private:
  struct target {
    explicit target(std::vector<T>& v) : out(v) {}
    std::mutex mutex;
    std::vector<T>& out;
  };
  std::shared_ptr<target> target_;
};

} // namespace sluice::op

namespace sluice {

/// A sink appending every record to `out`.
template <class T>
op::collect<T> collect(std::vector<T>& out) {
  return op::collect<T>{out};
}

} // namespace sluice
