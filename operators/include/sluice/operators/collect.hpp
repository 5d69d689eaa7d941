#pragma once

#include <cstdint>
#include <iterator>
#include <map>
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
/// When the job takes checkpoints, the sink commits in two phases, as Flink's two-phase-commit
/// sinks do with an external system: what an instance received before the barrier of checkpoint
/// c is staged under c beside the vector (outside the instance, so that it outlives a failed
/// incarnation) and appended once c completes. A restarted incarnation restores to a completed
/// checkpoint c: it appends what is staged up to c (its predecessor may have failed before it
/// learned that c completed) and drops what is staged after c, which it receives again.
template <class T>
class collect {
public:
  using input_type = T;
  using output_type = no_output;

  explicit collect(std::vector<T>& out) : target_(std::make_shared<target>(out)) {}

  void open(context<no_output>& ctx) {
    const auto& info = ctx.info();
    transactional_ = info.checkpointed;
    index_ = info.index;
    if (transactional_ && info.incarnation > 0)
      target_->recover(index_, info.restore_checkpoint.value_or(0));
  }

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
  void on_checkpoint(uint64_t id, context<no_output>&) { target_->stage(index_, id, pending_); }

  void on_checkpoint_complete(uint64_t id, context<no_output>&) { target_->commit(index_, id); }

  /// The end of the stream follows the job's final checkpoint: nothing is received again.
  void on_end(context<no_output>&) {
    target_->commit(index_, UINT64_MAX);
    target_->append(pending_);
  }

private:
  struct target {
    explicit target(std::vector<T>& v) : out(v) {}

    void append(std::vector<T>& values) {
      std::lock_guard<std::mutex> guard{mutex};
      std::move(values.begin(), values.end(), std::back_inserter(out));
      values.clear();
    }

    void stage(uint32_t instance, uint64_t checkpoint, std::vector<T>& values) {
      std::lock_guard<std::mutex> guard{mutex};
      staged[{instance, checkpoint}] = std::move(values);
      values.clear();
    }

    /// Appends what instance `instance` staged up to checkpoint `checkpoint`.
    void commit(uint32_t instance, uint64_t checkpoint) {
      std::lock_guard<std::mutex> guard{mutex};
      auto first = staged.lower_bound({instance, 0});
      auto last = staged.upper_bound({instance, checkpoint});
      for (auto it = first; it != last; ++it)
        std::move(it->second.begin(), it->second.end(), std::back_inserter(out));
      staged.erase(first, last);
    }

    /// A new incarnation of `instance` restores to completed checkpoint `checkpoint`.
    void recover(uint32_t instance, uint64_t checkpoint) {
      commit(instance, checkpoint);
      std::lock_guard<std::mutex> guard{mutex};
      staged.erase(staged.lower_bound({instance, 0}), staged.upper_bound({instance, UINT64_MAX}));
    }

    std::mutex mutex;
    std::vector<T>& out;
    /// Per instance and checkpoint: what the instance received before that checkpoint's
    /// barrier (after the previous one's), not yet appended.
    std::map<std::pair<uint32_t, uint64_t>, std::vector<T>> staged;
  };

  std::shared_ptr<target> target_;
  bool transactional_ = false;
  uint32_t index_ = 0;
  /// Values received since the last barrier.
  std::vector<T> pending_;
};

} // namespace sluice::op

namespace sluice {

/// A sink appending every record to `out`.
template <class T>
op::collect<T> collect(std::vector<T>& out) {
  return op::collect<T>{out};
}

} // namespace sluice
