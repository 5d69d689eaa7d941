#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include "sluice/record.hpp"

namespace sluice::detail {

/// Aligns the barriers of a checkpoint across an instance's inputs (Chandy–Lamport, as Flink's
/// `BarrierHandlerState`): once the barrier of checkpoint n arrived on an input, that input is
/// held (its later elements wait aside in the input gate) until n's barrier arrived on every
/// input that has not ended; then the instance takes n, passes its barrier on and releases its
/// inputs.
///
/// Checkpoints are aligned by id. The coordinator triggers one at a time, so a barrier of a
/// newer checkpoint than the one being aligned means that one was abandoned: its alignment ends
/// and the newer one begins. A barrier of a checkpoint already taken or abandoned is dropped.
/// Either way the decision depends only on the order in which elements are handled, so a
/// replay makes it again.
///
/// Abandoning travels downstream as a cancel marker (`cancel_msg`, as Flink's
/// CancelCheckpointMarker): without it, an instance aligning such a checkpoint would hold the
/// inputs that delivered its barrier until this instance passed on a newer one, and this one may
/// wait for those very inputs' upstream to go on: a cycle.
class barrier_aligner {
public:
  enum class state {
    waiting_for_first_barrier, ///< no alignment in progress
    collecting_barriers,       ///< some inputs delivered the barrier of `aligning()`
  };

  /// What the instance does after a barrier or a cancel marker.
  struct step {
    /// Pass a cancel marker on for checkpoints below this (0: none).
    uint64_t cancel_below = 0;
  };

  /// An aligner for `inputs` inputs of an instance restored to checkpoint `restored`.
  barrier_aligner(size_t inputs, uint64_t restored)
    : inputs_(inputs), newest_(restored), passed_barrier_(restored), passed_below_(restored) {}

  void resize(size_t inputs) { inputs_.assign(inputs, input{}); }

  [[nodiscard]] state current() const noexcept {
    return aligning_ ? state::collecting_barriers : state::waiting_for_first_barrier;
  }

  /// The checkpoint being aligned, if any.
  [[nodiscard]] std::optional<uint64_t> aligning() const noexcept { return aligning_; }

  /// True if a barrier of `checkpoint` is one to align: not of a checkpoint taken or
  /// abandoned. Its input holds from its arrival on.
  [[nodiscard]] bool aligns(uint64_t checkpoint) const noexcept {
    return checkpoint > newest_ || checkpoint == aligning_;
  }

  /// Input `i` delivered the barrier of `checkpoint` (which `aligns`). Inputs that must stop
  /// holding (an abandoned alignment's) go to `release(i)`.
  template <class Release>
  step on_barrier(size_t i, uint64_t checkpoint, Release&& release) {
    step result;
    if (checkpoint != aligning_) {
      abandon(release);
      aligning_ = checkpoint;
      newest_ = checkpoint;
      result.cancel_below = cancel_due(checkpoint);
    }
    inputs_[i].aligned = true;
    return result;
  }

  /// Input `i` delivered a cancel marker: its upstream passes on no barrier below `below`.
  template <class Release>
  step on_cancel(uint64_t below, Release&& release) {
    if (below == 0)
      return {};
    if (aligning_ && *aligning_ < below) {
      abandon(release);
      aligning_.reset();
    }
    newest_ = std::max(newest_, below - 1);
    return {cancel_due(below)};
  }

  /// Input `i` ended: it has nothing more to align.
  void on_end(size_t i) { inputs_[i].ended = true; }

  /// The checkpoint to take now, if every input that has not ended delivered its barrier; the
  /// aligner then waits for the next first barrier (the instance releases every input).
  std::optional<uint64_t> aligned() {
    if (!aligning_)
      return std::nullopt;
    for (const auto& in : inputs_)
      if (!in.ended && !in.aligned)
        return std::nullopt;
    auto id = aligning_;
    aligning_.reset();
    for (auto& in : inputs_)
      in.aligned = false;
    return id;
  }

  /// The instance passed the barrier of `checkpoint` on.
  void passed(uint64_t checkpoint) noexcept { passed_barrier_ = checkpoint; }

  /// True if input `i` delivered the barrier being aligned.
  [[nodiscard]] bool aligned(size_t i) const { return inputs_[i].aligned; }

private:
  struct input {
    bool aligned = false;
    bool ended = false;
  };

  template <class Release>
  void abandon(Release& release) {
    for (size_t i = 0; i < inputs_.size(); ++i)
      if (std::exchange(inputs_[i].aligned, false))
        release(i);
  }

  /// The `below` of a cancel marker to pass on, or 0 when downstream knows already: it had the
  /// barrier of every checkpoint below `below`, or a cancel for them.
  uint64_t cancel_due(uint64_t below) {
    if (below <= passed_below_)
      return 0;
    passed_below_ = below;
    return below > passed_barrier_ + 1 ? below : 0;
  }

  std::vector<input> inputs_;
  /// The checkpoint being aligned, and the newest whose barrier was handled (at first, the
  /// restored one).
  std::optional<uint64_t> aligning_;
  uint64_t newest_;
  /// The newest checkpoint whose barrier this instance passed on, and the newest `below` it
  /// passed on a cancel for or started aligning.
  uint64_t passed_barrier_;
  uint64_t passed_below_;
};

} // namespace sluice::detail
