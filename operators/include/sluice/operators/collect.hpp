#pragma once

#include <iterator>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

#include "sluice/context.hpp"
#include "sluice/interfaces.hpp"

namespace sluice::op {

/// A sink that appends every record's value to a vector the caller owns.
///
/// All instances append to the same vector under a lock: the order within an instance is kept,
/// the interleaving of instances is not. The vector must outlive the run and must not be read
/// until `run()` returned.
///
/// When the job takes checkpoints, an instance holds what arrived since the last checkpoint's
/// barrier and appends it when the checkpoint completes (and at the end of the stream), as
/// Flink's two-phase-commit sinks do: a restarted instance, which gets that input again, appends
/// it once.
template <class T>
class collect {
public:
  using input_type = T;
  using output_type = no_output;

  explicit collect(std::vector<T>& out) : target_(std::make_shared<target>(out)) {}

  void open(context<no_output>& ctx) { transactional_ = ctx.info().checkpointed; }

  void on_batch(std::vector<record<T>>& records, context<no_output>&) {
    if (transactional_) {
      for (auto& r : records)
        pending_.push_back(std::move(r.value));
      return;
    }
    std::lock_guard<std::mutex> guard{target_->mutex};
    for (auto& r : records)
      target_->out.push_back(std::move(r.value));
  }

  /// What arrived before the barrier belongs to the checkpoint.
  void on_checkpoint(context<no_output>&) {
    std::move(pending_.begin(), pending_.end(), std::back_inserter(staged_));
    pending_.clear();
  }

  /// A completed checkpoint covers everything staged: no later barrier can have arrived yet,
  /// since the coordinator triggers the next checkpoint only after telling every instance.
  void on_checkpoint_complete(uint64_t, context<no_output>&) { publish(staged_); }

  void on_end(context<no_output>&) {
    publish(staged_);
    publish(pending_);
  }

private:
  void publish(std::vector<T>& values) {
    if (values.empty())
      return;
    std::lock_guard<std::mutex> guard{target_->mutex};
    std::move(values.begin(), values.end(), std::back_inserter(target_->out));
    values.clear();
  }

  struct target {
    explicit target(std::vector<T>& v) : out(v) {}
    std::mutex mutex;
    std::vector<T>& out;
  };
  std::shared_ptr<target> target_;
  bool transactional_ = false;
  /// Values since the last barrier, and values of checkpoints taken but not yet completed.
  std::vector<T> pending_;
  std::vector<T> staged_;
};

} // namespace sluice::op

namespace sluice {

/// A sink appending every record to `out`.
template <class T>
op::collect<T> collect(std::vector<T>& out) {
  return op::collect<T>{out};
}

} // namespace sluice
