#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "sluice/context.hpp"
#include "sluice/dead_letter.hpp"
#include "sluice/operator.hpp"

namespace sluice::op {

/// The source of a pipeline's dead letters (`pipeline::dead_letters()`): emits the letters the
/// job's store commits, each with the event time of its record. Instance i of n emits letters
/// i, i + n, ... in the order they were committed. It declares itself idle, so that it holds
/// back no downstream watermark, and ends once every instance that skips records has ended.
///
/// Its position is checkpointed: a restarted incarnation emits again from there. A job that
/// starts anew (also one restored from a checkpoint) starts with no letters, so it starts at
/// the beginning.
class dead_letter_source {
public:
  using output_type = dead_letter;

  /// It ends after the job's other sources (see node_base::trails_other_sources).
  static constexpr bool trails_other_sources = true;

  explicit dead_letter_source(std::shared_ptr<const dead_letter_store> store)
    : store_(std::move(store)) {}

  [[nodiscard]] bool bounded() const { return true; }

  void open(source_context<dead_letter>& ctx) {
    const auto& info = ctx.info();
    first_ = info.index;
    stride_ = info.parallelism;
    restarted_ = info.incarnation > 0;
    ctx.mark_idle(true);
  }

  source_step produce(source_context<dead_letter>& ctx, size_t max_records) {
    auto read = store_->read(first_ + stride_ * emitted_, stride_, max_records);
    for (auto& letter : read.letters) {
      auto time = letter.time;
      ctx.emit(std::move(letter), time);
    }
    emitted_ += read.letters.size();
    if (read.exhausted)
      return source_step::done();
    return read.letters.empty() ? source_step::wait(poll_interval) : source_step::more();
  }

  [[nodiscard]] std::vector<uint64_t> checkpoint_splits() const { return {emitted_}; }

  void restore_splits(std::vector<uint64_t> splits) {
    if (restarted_ && !splits.empty())
      emitted_ = splits.front();
  }

private:
  /// How often it looks for new letters when there are none.
  static constexpr std::chrono::microseconds poll_interval{2'000};

  std::shared_ptr<const dead_letter_store> store_;
  uint64_t first_ = 0;
  uint64_t stride_ = 1;
  /// The letters this instance emitted.
  uint64_t emitted_ = 0;
  bool restarted_ = false;
};

} // namespace sluice::op
