#pragma once

#include <algorithm>
#include <cstdint>
#include <deque>
#include <map>
#include <variant>
#include <vector>

#include "sluice/messages.hpp"
#include "sluice/record.hpp"
#include "sluice/watermark_tracker.hpp"

namespace sluice {

/// What the supervisor keeps of one operator instance, outside its actor, so that a new
/// incarnation can do again exactly what the failed one did since the last completed checkpoint
/// (docs/architecture.md, "Recovery").
///
/// The same input in the same order gives a deterministic operator the same output. An instance
/// with inputs logs the input channel of every element it handles, run-length coded, and, if it
/// keeps processing time, each step of its clock between them (processing-time timers then fire
/// at the same points of a replay, and the operator reads the same clock); a source
/// logs the record counts at which it sent each marker (barrier, watermark, idle change, end of
/// stream): what it does that does not follow from its records. At each checkpoint it takes, it
/// notes where its channels stood. When a checkpoint completes, what came before it is dropped.
///
/// Only one incarnation uses a log at a time: the next one starts after the last has exited.
class recovery_log {
public:
  /// Where an instance's channels stood right after it took a checkpoint.
  struct position {
    /// Per input channel: the sequence number of the next element to handle.
    std::vector<uint64_t> inputs;
    /// Per output channel: the sequence number of the next element emitted.
    std::vector<uint64_t> outputs;
    /// The records the instance had emitted (`output_channels::records_emitted`).
    uint64_t emitted = 0;
    /// Per input channel: its watermark, and whether it was idle or had ended. A replay starts
    /// from them: it sees only the markers that came after the checkpoint, and must pass on the
    /// same watermarks as the failed incarnation did.
    watermark_tracker watermarks;
    /// The instance's processing time (min_timestamp if it keeps none).
    timestamp processing_time = min_timestamp;
    /// Where the input order and the source events went on (absolute indices).
    uint64_t order_mark = 0;
    uint64_t events_mark = 0;
  };

  /// Elements handled one after another from one input channel.
  struct run {
    channel_index channel = 0;
    uint64_t elements = 0;
  };

  /// The instance's processing time moved on to `time` (ms since the epoch) here.
  struct clock_tick {
    timestamp time = 0;
  };

  /// What the instance did next: handled a run of elements, or moved its clock.
  using order_entry = std::variant<run, clock_tick>;

  /// A source sent `marker` (a barrier, a watermark, an idle change or the end of its stream)
  /// after emitting `emitted` records.
  struct source_event {
    uint64_t emitted = 0;
    std::variant<watermark_msg, idle_msg, end_of_stream_msg, barrier_msg> marker;
  };

  /// A log whose instance starts at completed checkpoint `checkpoint` on fresh channels.
  explicit recovery_log(uint64_t checkpoint);

  /// The instance handled `elements` elements of input channel `channel`.
  void handled(channel_index channel, uint64_t elements);

  /// The instance's processing time moved on to `time`.
  void ticked(timestamp time);

  /// The source did `event`.
  void source_did(const source_event& event);

  /// The source has emitted `records` records since the job started. Its downstream may have
  /// seen every one of them, so a restarted incarnation, past the logged events, emits records
  /// only until it has emitted as many as the most any incarnation emitted before it.
  void source_emitted(uint64_t records) noexcept {
    source_emitted_ = std::max(source_emitted_, records);
  }

  /// The most records any incarnation of the source emitted (see `source_emitted`).
  [[nodiscard]] uint64_t source_emitted() const noexcept { return source_emitted_; }

  /// The instance took checkpoint `checkpoint`, its channels standing at `where` (its marks are
  /// set here).
  void took(uint64_t checkpoint, position where);

  /// Checkpoint `checkpoint` completed: what came before it is no longer needed.
  void completed(uint64_t checkpoint);

  /// Prepares the log for an incarnation that restores to completed checkpoint `checkpoint`:
  /// later checkpoints are forgotten (they never complete). With `keep_order`, the input order
  /// and source events since `checkpoint` stay to be replayed; without (the instance's upstream
  /// regenerates its input afresh, and everything downstream restarts too), they are forgotten,
  /// and so is how far a source emitted. Returns where the channels stood.
  /// @throws std::logic_error if the instance never took `checkpoint`.
  const position& restart(uint64_t checkpoint, bool keep_order);

  /// The entry of the input order at absolute index `index`, or null past the last.
  [[nodiscard]] const order_entry* order_at(uint64_t index) const;

  /// The source event at absolute index `index`, or null past the last.
  [[nodiscard]] const source_event* event_at(uint64_t index) const;

  /// The absolute index after the last entry of the input order and after the last source event.
  [[nodiscard]] uint64_t order_end() const noexcept { return order_base_ + order_.size(); }
  [[nodiscard]] uint64_t events_end() const noexcept { return events_base_ + events_.size(); }

private:
  std::map<uint64_t, position> checkpoints_;
  std::deque<order_entry> order_;
  uint64_t order_base_ = 0;
  /// A checkpoint was noted since the last run began: the next element starts a new run.
  bool run_closed_ = true;
  std::deque<source_event> events_;
  uint64_t events_base_ = 0;
  uint64_t source_emitted_ = 0;
};

} // namespace sluice
