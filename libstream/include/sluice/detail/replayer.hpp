#pragma once

#include <cstdint>
#include <deque>
#include <limits>
#include <utility>
#include <variant>
#include <vector>

#include "sluice/detail/channel_element.hpp"
#include "sluice/recovery_log.hpp"

namespace sluice::detail {

// Exactly-once recovery of one instance (docs/architecture.md, "Recovery") has its owner here.
// A failed instance's new incarnation restores its state to the last completed checkpoint and
// must then do again exactly what the failed incarnations did since: its downstream instances
// may have acted on every element they emitted. Its upstream instances send again what they
// retained (and their own replays regenerate); the input gate drops what arrives twice. What
// does not follow from the input is what the recovery log recorded: for an instance with
// inputs, the order in which it handled its channels (`input_replayer`); for a source, the
// record counts at which it sent its markers and how far it got (`source_replayer`).

/// Replays a restarted instance's input in the order the recovery log gives.
///
/// What arrives meanwhile waits per channel (`arrive`) for its turn. Its credit is returned at
/// once by the host: the log may want another channel first, whose upstream may need this one's
/// upstream to go on; holding the credit back could close a cycle of instances waiting for each
/// other, and what waits is bounded by what the upstream instances retained or regenerate since
/// the checkpoint. A replay does not wait for output credit either: it goes on into the
/// channels' backlogs, bounded by what was emitted since the restored checkpoint.
template <class In>
class input_replayer {
public:
  using event = input_event<In>;

  enum class step {
    handled,  ///< an element was handed to `handle`
    waiting,  ///< the log wants a channel on which nothing has arrived yet
    finished, ///< the log is replayed
    corrupt,  ///< the log names a channel the instance does not have
  };

  /// Starts replaying `log` from run `order_mark` on, over `channels` input channels. Returns
  /// false (and replays nothing) when the log holds nothing to replay.
  bool start(const recovery_log& log, uint64_t order_mark, size_t channels) {
    log_ = &log;
    index_ = order_mark;
    done_in_run_ = 0;
    pending_.assign(channels, {});
    active_ = log.order_at(index_) != nullptr;
    return active_;
  }

  [[nodiscard]] bool active() const noexcept { return active_; }

  /// An accepted element arrived on its channel; it waits for its turn in the log.
  void arrive(event&& e) { pending_[channel_of<In>(e)].push_back(std::move(e)); }

  /// Hands the next element in log order to `handle(auto& element)`, or the next step of the
  /// clock (a `recovery_log::clock_tick`); a batch the failed incarnation handled in two turns
  /// is split.
  template <class Handle>
  step next(Handle&& handle) {
    const auto* entry = log_->order_at(index_);
    if (!entry)
      return step::finished;
    if (const auto* tick = std::get_if<recovery_log::clock_tick>(entry)) {
      auto copy = *tick;
      ++index_;
      handle(copy);
      return step::handled;
    }
    const auto* run = &std::get<recovery_log::run>(*entry);
    if (run->channel >= pending_.size())
      return step::corrupt;
    auto& waiting = pending_[run->channel];
    if (waiting.empty())
      return step::waiting;
    auto wanted = run->elements - done_in_run_;
    auto& front = waiting.front();
    uint64_t done = 1;
    if (auto* b = std::get_if<batch<In>>(&front); b && b->records.size() > wanted) {
      batch<In> head;
      head.channel = b->channel;
      head.seq = b->seq;
      head.incarnation = b->incarnation;
      head.records = take_front(b->records, static_cast<size_t>(wanted));
      b->seq += wanted;
      done = wanted;
      handle(head);
    } else {
      if (b)
        done = b->records.size();
      auto e = std::move(front);
      waiting.pop_front();
      std::visit([&](auto& x) { handle(x); }, e);
    }
    done_in_run_ += done;
    if (done_in_run_ == run->elements) {
      ++index_;
      done_in_run_ = 0;
    }
    return step::handled;
  }

  /// Ends the replay: hands what arrived meanwhile, channel by channel in arrival order, to
  /// `admit(event&&)`.
  template <class Admit>
  void finish(Admit&& admit) {
    active_ = false;
    auto pending = std::move(pending_);
    pending_.clear();
    for (auto& channel : pending)
      for (auto& e : channel)
        admit(std::move(e));
  }

private:
  const recovery_log* log_ = nullptr;
  bool active_ = false;
  /// The run of the log the replay is at, and the elements of that run handled.
  uint64_t index_ = 0;
  uint64_t done_in_run_ = 0;
  /// Per channel, what arrived and waits for its turn.
  std::vector<std::deque<event>> pending_;
};

/// Makes a restarted source do again what its failed incarnations did.
///
/// The source produces again from its restored splits and sends its logged markers
/// (barriers, watermarks, idle changes, end of stream) at the logged record counts. Past the
/// log, the failed incarnations emitted records only, and their downstream may have seen them
/// all and passed on what it made of them, even if it restarted since: no marker of the new
/// incarnation's own may come first, so those wait (`hold`, `defer_checkpoint`,
/// `defer_finish`) until it emitted as many records as any incarnation before it.
template <class Marker>
class source_replayer {
public:
  /// Starts after a restart to the checkpoint whose events began at `events_mark`.
  void start(const recovery_log& log, uint64_t events_mark) {
    log_ = &log;
    next_ = events_mark;
    end_ = log.events_end();
    records_ = log.source_emitted();
  }

  /// The logged event due next, or null once every logged event was done.
  [[nodiscard]] const recovery_log::source_event* next_logged() const {
    if (!log_ || next_ >= end_)
      return nullptr;
    return log_->event_at(next_);
  }

  /// The logged event was done.
  void advance() noexcept { ++next_; }

  /// True while the source, having emitted `emitted` records, still does what the failed
  /// incarnations did.
  [[nodiscard]] bool replaying(uint64_t emitted) const {
    return next_logged() != nullptr || emitted < records_;
  }

  /// A marker of the source's own waits for the replay to end; only the newest of a kind in a
  /// row matters.
  void hold(Marker m) {
    if (!held_.empty() && held_.back().index() == m.index())
      held_.back() = std::move(m);
    else
      held_.push_back(std::move(m));
  }

  /// A checkpoint triggered meanwhile waits.
  void defer_checkpoint(uint64_t id) { deferred_checkpoints_.push_back(id); }

  /// The end of the stream waits.
  void defer_finish() noexcept { finish_deferred_ = true; }

  /// True if something waits for the replay to end.
  [[nodiscard]] bool has_deferred() const noexcept {
    return !held_.empty() || !deferred_checkpoints_.empty() || finish_deferred_;
  }

  /// What waited, to be done now in this order: the markers, the checkpoints, the end.
  struct deferred {
    std::vector<Marker> markers;
    std::vector<uint64_t> checkpoints;
    bool finish = false;
  };

  deferred take_deferred() {
    return {std::exchange(held_, {}), std::exchange(deferred_checkpoints_, {}),
            std::exchange(finish_deferred_, false)};
  }

private:
  const recovery_log* log_ = nullptr;
  /// The next logged event to do and the end of those to do (absolute indices).
  uint64_t next_ = 0;
  uint64_t end_ = 0;
  /// The most records an earlier incarnation emitted.
  uint64_t records_ = 0;
  std::vector<Marker> held_;
  std::vector<uint64_t> deferred_checkpoints_;
  bool finish_deferred_ = false;
};

} // namespace sluice::detail
