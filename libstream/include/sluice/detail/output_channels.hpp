#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include <caf/local_actor.hpp>
#include <caf/message_id.hpp>
#include <caf/send.hpp>

#include "sluice/dead_letter.hpp"
#include "sluice/detail/background_disposal.hpp"
#include "sluice/detail/retention_gate.hpp"
#include "sluice/interfaces.hpp"
#include "sluice/key_group.hpp"
#include "sluice/messages.hpp"
#include "sluice/record.hpp"
#include "sluice/recovery_log.hpp"

namespace sluice {

/// How an edge spreads records over the instances of its downstream operator.
enum class partitioning {
  forward,   ///< instance i sends to instance i (equal parallelism)
  rebalance, ///< round robin, one batch at a time
  hash,      ///< by key group of the record's key
  broadcast, ///< every record to every instance
};

/// One channel from this instance to one downstream instance, as wired by the runtime.
template <class T>
struct channel_target {
  input_actor<T> actor;
  channel_index channel = 0;
  uint32_t incarnation = 0;
};

/// One channel into an instance, as wired by the runtime: the upstream instance, its output
/// index for the channel and its incarnation.
template <class T>
struct input_wiring {
  output_actor<T> upstream;
  uint32_t output = 0;
  uint32_t incarnation = 0;
};

/// How an instance takes part in recovery (docs/architecture.md, "Recovery").
struct recovery_wiring {
  /// Null when the job takes no checkpoints: nothing is logged or retained.
  std::shared_ptr<recovery_log> log;
  /// A new incarnation of a failed instance: it restores its channels from the log, replays
  /// what the log holds (with `keep_order`) and attaches its channels anew.
  bool restarted = false;
  bool keep_order = true;
  /// Checkpoints after the restored one up to this one were abandoned when the instance failed:
  /// a replay passes their barriers on without taking them again.
  uint64_t abandoned_through = 0;
  /// Why the previous incarnation failed.
  std::string last_failure;
  /// Closed while an instance of the job retains more than the limit: sources pause.
  std::shared_ptr<detail::retention_gate> retention;
};

/// One outgoing edge of an instance: its partitioning and its channels.
template <class T>
struct edge_wiring {
  partitioning kind = partitioning::forward;
  /// Stable hash of a record's key; set for `partitioning::hash`.
  std::function<uint64_t(const T&)> key_hash;
  uint32_t max_parallelism = 128;
  std::vector<channel_target<T>> targets;
};

/// The runtime tells each instance where its records go and where its input comes from.
template <class In, class Out>
struct wiring {
  std::vector<edge_wiring<Out>> outputs;
  /// Indexed by input channel.
  std::vector<input_wiring<In>> inputs;
  /// Where to acknowledge checkpoints (null when the job takes none), and this instance's
  /// number in the job.
  coordinator_actor coordinator;
  uint32_t instance_number = 0;
  recovery_wiring recovery;
  /// Under `failure_policy::skip`: the job's dead letters.
  std::shared_ptr<dead_letter_store> dead_letters;
};

} // namespace sluice

namespace caf {
template <class In, class Out>
struct allowed_unsafe_message_type<sluice::wiring<In, Out>> : std::true_type {};
} // namespace caf

namespace sluice::detail {

/// Sends a message from inside actor `self` without a sender address.
///
/// Unlike `caf::anon_send`, this hands CAF the sender's execution unit, so a receiver that becomes
/// ready is scheduled on the sender's worker (its local queue) instead of through the scheduler's
/// shared queue: a chain of stages then runs like a pipeline of function calls on one worker.
template <class Dest, class Message>
void send_from(caf::local_actor* self, const Dest& dest, Message&& msg) {
  if (dest)
    dest->eq_impl(caf::make_message_id(), nullptr, self->context(), std::forward<Message>(msg));
}

/// The sending half of an instance: buffers records per channel and sends them within credit.
///
/// Records are cut into batches of `batch_size`. A channel sends only as many records as its
/// downstream granted credit for. Markers (watermark, idle, barrier, end of stream) take no credit
/// but stay in order behind the records emitted before them: while records wait for credit, a
/// marker waits behind them in the channel's backlog.
///
/// Every element (record or marker) gets the next sequence number of its channel. When the job
/// can recover (`retain`), a channel keeps what it sent since the barrier of the last completed
/// checkpoint (`release` drops it), so that a restarted downstream instance can have it again
/// (`attach`); a restarted instance emits what its downstream already has without sending it.
template <class T>
class output_channels {
public:
  using marker = std::variant<watermark_msg, idle_msg, end_of_stream_msg, barrier_msg, cancel_msg>;

  void configure(caf::local_actor* self, std::vector<edge_wiring<T>> edges, size_t batch_size,
                 uint32_t incarnation, bool retain) {
    self_ = self;
    batch_size_ = batch_size;
    incarnation_ = incarnation;
    retain_ = retain;
    channels_.clear();
    edges_.clear();
    for (auto& e : edges) {
      edge ed;
      ed.kind = e.kind;
      ed.key_hash = std::move(e.key_hash);
      ed.max_parallelism = e.max_parallelism;
      ed.first = channels_.size();
      ed.count = e.targets.size();
      for (auto& t : e.targets) {
        channel ch;
        ch.target = std::move(t.actor);
        ch.index = t.channel;
        ch.target_incarnation = t.incarnation;
        channels_.push_back(std::move(ch));
      }
      edges_.push_back(std::move(ed));
    }
    only_channel_ =
      edges_.size() == 1 && edges_[0].kind == partitioning::forward ? &channels_[0] : nullptr;
  }

  /// Routes one record to the channels of every edge.
  void emit(T&& value, timestamp time) {
    ++records_emitted_;
    if (only_channel_) [[likely]] {
      push(*only_channel_, std::move(value), time);
      return;
    }
    const auto n = edges_.size();
    if (n == 1) [[likely]] {
      route(edges_[0], std::move(value), time);
      return;
    }
    for (size_t i = 0; i + 1 < n; ++i)
      route(edges_[i], T(value), time);
    if (n > 0)
      route(edges_[n - 1], std::move(value), time);
  }

  /// Emits a whole batch of records. With a single forward channel and nothing waiting on it,
  /// a vector of at most one batch becomes the channel's buffer: no record is copied or moved.
  void emit_batch(std::vector<record<T>>&& records) {
    if (only_channel_ && only_channel_->buffer.empty() && only_channel_->backlog.empty()
        && records.size() <= batch_size_) {
      records_emitted_ += records.size();
      only_channel_->emitted += records.size();
      only_channel_->buffered = records.size();
      only_channel_->buffer.swap(records);
      records.clear();
      if (only_channel_->buffered >= batch_size_)
        send(*only_channel_, false);
      return;
    }
    for (auto& r : records)
      emit(std::move(r.value), r.time);
    records.clear();
  }

  /// Adds credit granted by a downstream instance and sends what it allows.
  void add_credit(const credit_msg& c) {
    auto& ch = channels_.at(c.output);
    if (c.incarnation != ch.target_incarnation)
      return; // granted by an incarnation that has since been replaced
    ch.credit += c.records;
    send(ch, false);
  }

  /// Sends a marker on every channel, in order behind buffered records.
  void broadcast(const marker& m) {
    if (const auto* b = std::get_if<barrier_msg>(&m))
      last_barrier_ = b->checkpoint;
    for (auto& ch : channels_) {
      auto msg = m;
      std::visit([&](auto& x) { x.channel = ch.index; }, msg);
      ++ch.emitted;
      if (ch.attached && ch.backlog.empty() && ch.buffer.empty()) {
        send_marker(ch, msg);
        continue;
      }
      if (!ch.buffer.empty()) {
        ch.backlog.emplace_back(std::move(ch.buffer));
        ch.buffer = {};
      } else if (!retain_ && std::holds_alternative<watermark_msg>(msg)
                 && std::holds_alternative<marker>(ch.backlog.back())
                 && std::holds_alternative<watermark_msg>(std::get<marker>(ch.backlog.back()))) {
        // Only the newest of consecutive waiting watermarks matters. (Not when retaining: the
        // elements of a channel must not depend on when credit came.)
        ch.backlog.back() = msg;
        --ch.emitted;
        continue;
      }
      ch.backlog.emplace_back(std::move(msg));
      send(ch, false);
    }
  }

  /// Sends every buffered record that credit allows, full batches or not.
  void flush() {
    for (auto& ch : channels_)
      send(ch, true);
  }

  /// True when some channel holds a full batch it cannot send: the instance should stop
  /// taking input until credit arrives.
  [[nodiscard]] bool blocked() const noexcept {
    for (const auto& ch : channels_)
      if (ch.buffered >= batch_size_)
        return true;
    return false;
  }

  /// True when nothing waits to be sent.
  [[nodiscard]] bool empty() const noexcept {
    for (const auto& ch : channels_)
      if (!ch.buffer.empty() || !ch.backlog.empty())
        return false;
    return true;
  }

  /// True when some channel holds records that a flush could send now. Records waiting for
  /// credit need no flush timer: the credit that frees them sends them.
  [[nodiscard]] bool has_flushable_records() const noexcept {
    for (const auto& ch : channels_)
      if (ch.buffered > 0 && ch.credit > 0)
        return true;
    return false;
  }

  /// The sequence number of the next element emitted on each channel.
  [[nodiscard]] std::vector<uint64_t> positions() const {
    std::vector<uint64_t> result;
    for (const auto& ch : channels_)
      result.push_back(ch.emitted);
    return result;
  }

  /// A restarted incarnation: its channels go on from `positions` (as `positions()` gave them
  /// at the restored checkpoint, when `records_emitted()` was `emitted`) and send nothing until
  /// their downstream attaches.
  void resume_at(const std::vector<uint64_t>& positions, uint64_t emitted) {
    for (size_t i = 0; i < channels_.size() && i < positions.size(); ++i) {
      auto& ch = channels_[i];
      ch.emitted = ch.sent = positions[i];
      ch.attached = false;
    }
    records_emitted_ = emitted;
    for (auto& e : edges_) {
      // Every record passes every edge: a round robin's turn follows from the count.
      e.in_turn = emitted % batch_size_;
      e.next = e.count > 0 ? (emitted / batch_size_) % e.count : 0;
    }
  }

  /// A restarted incarnation says hello to every downstream instance, which answers where its
  /// channel resumes (see `attach`).
  void say_hello(const output_actor<T>& self_handle) {
    for (uint32_t output = 0; output < channels_.size(); ++output) {
      auto& ch = channels_[output];
      send_from(self_, ch.target,
                attach_upstream_msg<T>{ch.index, self_handle, output, incarnation_});
    }
  }

  /// The downstream instance of output `output` (restarted, or answering a restarted
  /// instance) attached: records go to `target` from element `resume_seq` on, within `credit`.
  /// Returns an error message if this instance no longer retains element `resume_seq`.
  std::optional<std::string> attach(uint32_t output, input_actor<T> target, uint32_t incarnation,
                                    uint64_t resume_seq, int64_t credit) {
    if (output >= channels_.size())
      return "attach on unknown output " + std::to_string(output);
    auto& ch = channels_[output];
    ch.target = std::move(target);
    ch.target_incarnation = incarnation;
    ch.credit = credit;
    ch.attached = true;
    if (resume_seq < ch.sent) {
      auto first_retained = ch.retained.empty() ? ch.sent : ch.retained.front().seq;
      if (resume_seq < first_retained)
        return "cannot replay output " + std::to_string(output) + " from element "
               + std::to_string(resume_seq) + ": what was sent is kept from element "
               + std::to_string(first_retained) + " on";
      rewind(ch, resume_seq);
    }
    ch.suppress_below = resume_seq;
    send(ch, false);
    return std::nullopt;
  }

  /// Checkpoint `checkpoint` completed: drops what was sent before its barrier.
  void release(uint64_t checkpoint) {
    if (!retain_ || checkpoint > last_barrier_)
      return;
    for (auto& ch : channels_) {
      auto end = ch.sent; // unless the barrier was sent, it still waits behind all that was
      for (const auto& [id, after] : ch.barriers)
        if (id == checkpoint)
          end = after;
      while (!ch.barriers.empty() && ch.barriers.front().first <= checkpoint)
        ch.barriers.pop_front();
      while (!ch.retained.empty() && ch.retained.front().seq < end) {
        retained_records_ -= records_in(ch.retained.front().content);
        ch.retained.pop_front();
      }
    }
  }

  /// Drops every channel and with it the handles of downstream instances. What the channels
  /// retained is freed on a background thread (detail::dispose_in_background).
  void clear() {
    only_channel_ = nullptr;
    for (auto& ch : channels_)
      if (!ch.retained.empty())
        dispose_in_background(std::move(ch.retained));
    retained_records_ = 0;
    channels_.clear();
    edges_.clear();
  }

  [[nodiscard]] size_t channel_count() const noexcept { return channels_.size(); }
  [[nodiscard]] uint64_t records_sent() const noexcept { return records_sent_; }
  [[nodiscard]] uint64_t batches_sent() const noexcept { return batches_sent_; }
  /// The records emitted since the job started (or was restored).
  [[nodiscard]] uint64_t records_emitted() const noexcept { return records_emitted_; }
  [[nodiscard]] uint64_t records_retained() const noexcept { return retained_records_; }

  void fill_stats(std::vector<int64_t>& credit, std::vector<uint64_t>& buffered) const {
    credit.clear();
    buffered.clear();
    for (const auto& ch : channels_) {
      credit.push_back(ch.credit);
      buffered.push_back(ch.buffered);
    }
  }

private:
  using segment = std::variant<std::vector<record<T>>, marker>;

  /// Sent elements kept for replay, from element `seq` on.
  struct retained_segment {
    uint64_t seq = 0;
    segment content;
  };

  struct channel {
    input_actor<T> target;
    channel_index index = 0;
    uint32_t target_incarnation = 0;
    /// False while a restarted incarnation waits for its downstream to attach.
    bool attached = true;
    int64_t credit = 0;
    /// The sequence numbers of the next element to send and of the next one emitted.
    uint64_t sent = 0;
    uint64_t emitted = 0;
    /// Elements below this reached the downstream from an earlier incarnation: they are kept
    /// but not sent again.
    uint64_t suppress_below = 0;
    /// Records emitted since the last marker that waits.
    std::vector<record<T>> buffer;
    /// Older records and markers, in emission order; empty unless a marker had to wait.
    std::deque<segment> backlog;
    /// Records in `buffer` and `backlog` together.
    size_t buffered = 0;
    /// What was sent since the last completed checkpoint's barrier (when retaining), and the
    /// sequence number after each barrier sent since.
    std::deque<retained_segment> retained;
    std::deque<std::pair<uint64_t, uint64_t>> barriers;
  };

  struct edge {
    partitioning kind = partitioning::forward;
    std::function<uint64_t(const T&)> key_hash;
    uint32_t max_parallelism = 128;
    size_t first = 0;
    size_t count = 0;
    size_t next = 0;
    /// Records routed to channel `next` in its current turn.
    size_t in_turn = 0;
  };

  static uint64_t records_in(const segment& s) {
    if (const auto* records = std::get_if<std::vector<record<T>>>(&s))
      return records->size();
    return 0;
  }

  void route(edge& e, T&& value, timestamp time) {
    switch (e.kind) {
      case partitioning::forward:
        push(channels_[e.first], std::move(value), time);
        return;
      case partitioning::rebalance: {
        // Turns of a batch's worth of records each, counted rather than cut by sends, so the
        // routing does not depend on when batches were flushed.
        push(channels_[e.first + e.next], std::move(value), time);
        if (++e.in_turn == batch_size_) {
          e.in_turn = 0;
          e.next = (e.next + 1) % e.count;
        }
        return;
      }
      case partitioning::hash: {
        auto group = static_cast<uint32_t>(e.key_hash(value) % e.max_parallelism);
        auto i = instance_of_key_group(group, static_cast<uint32_t>(e.count), e.max_parallelism);
        push(channels_[e.first + i], std::move(value), time);
        return;
      }
      case partitioning::broadcast:
        for (size_t i = 1; i < e.count; ++i)
          push(channels_[e.first + i], T(value), time);
        push(channels_[e.first], std::move(value), time);
        return;
    }
  }

  /// Appends a record, and sends a batch it completed.
  void push(channel& ch, T&& value, timestamp time) {
    if (ch.buffer.capacity() == 0)
      ch.buffer.reserve(batch_size_);
    ch.buffer.push_back(record<T>{std::move(value), time});
    ++ch.buffered;
    ++ch.emitted;
    if (ch.buffer.size() < batch_size_)
      return;
    send(ch, false);
    if (!ch.buffer.empty()) {
      // No credit for it: park the full batch so the buffer never grows past one batch and a
      // later partial send never shifts a long vector.
      ch.backlog.emplace_back(std::move(ch.buffer));
      ch.buffer = {};
    }
  }

  /// Sends a marker, or only keeps it when the downstream has it already.
  void send_marker(channel& ch, marker m) {
    auto seq = ch.sent++;
    if (const auto* b = std::get_if<barrier_msg>(&m); b && retain_)
      ch.barriers.emplace_back(b->checkpoint, ch.sent);
    if (seq >= ch.suppress_below) {
      std::visit(
        [&](auto& x) {
          x.seq = seq;
          x.incarnation = incarnation_;
          send_from(self_, ch.target, x);
        },
        m);
    }
    if (retain_)
      ch.retained.push_back({seq, std::move(m)});
  }

  /// Sends records up to credit: the backlog first, then the buffer if it holds a full batch
  /// (or anything, when `force`).
  void send(channel& ch, bool force) {
    if (!ch.attached)
      return;
    while (!ch.backlog.empty()) {
      auto& front = ch.backlog.front();
      if (auto* m = std::get_if<marker>(&front)) {
        auto msg = std::move(*m);
        ch.backlog.pop_front();
        send_marker(ch, std::move(msg));
        continue;
      }
      auto& records = std::get<std::vector<record<T>>>(front);
      send_records(ch, records);
      if (!records.empty())
        return;
      ch.backlog.pop_front();
    }
    if (ch.buffer.size() >= batch_size_ || (force && !ch.buffer.empty()))
      send_records(ch, ch.buffer);
  }

  /// Sends as many of `records` as credit allows and removes them from it. Records the
  /// downstream already has are only kept.
  void send_records(channel& ch, std::vector<record<T>>& records) {
    if (ch.sent < ch.suppress_below) {
      auto n = std::min<uint64_t>(ch.suppress_below - ch.sent, records.size());
      keep(ch, take_front(records, n));
      ch.buffered -= n;
    }
    auto n = std::min<int64_t>(ch.credit, static_cast<int64_t>(records.size()));
    if (n <= 0)
      return;
    batch<T> b;
    b.channel = ch.index;
    b.seq = ch.sent;
    b.incarnation = incarnation_;
    b.records = take_front(records, static_cast<size_t>(n));
    ch.credit -= n;
    ch.buffered -= static_cast<size_t>(n);
    records_sent_ += static_cast<uint64_t>(n);
    ++batches_sent_;
    if (retain_) {
      auto copy = b.records;
      send_from(self_, ch.target, std::move(b));
      keep(ch, std::move(copy));
    } else {
      ch.sent += static_cast<uint64_t>(n);
      send_from(self_, ch.target, std::move(b));
    }
  }

  /// Counts `records` as sent, keeping them when retaining.
  void keep(channel& ch, std::vector<record<T>>&& records) {
    auto seq = ch.sent;
    ch.sent += records.size();
    if (!retain_ || records.empty())
      return;
    retained_records_ += records.size();
    ch.retained.push_back({seq, std::move(records)});
  }

  /// The first `n` of `records`, removed from it.
  static std::vector<record<T>> take_front(std::vector<record<T>>& records, size_t n) {
    std::vector<record<T>> front;
    if (n == records.size()) {
      front = std::move(records);
      records = {};
      return front;
    }
    front.reserve(n);
    std::move(records.begin(), records.begin() + static_cast<std::ptrdiff_t>(n),
              std::back_inserter(front));
    records.erase(records.begin(), records.begin() + static_cast<std::ptrdiff_t>(n));
    return front;
  }

  /// Puts what was sent from element `seq` on back in front of the backlog, to be sent again.
  void rewind(channel& ch, uint64_t seq) {
    while (!ch.retained.empty()) {
      auto& last = ch.retained.back();
      if (last.seq + std::max<uint64_t>(1, records_in(last.content)) <= seq)
        break;
      auto* records = std::get_if<std::vector<record<T>>>(&last.content);
      if (records && last.seq < seq) {
        // Straddles `seq`: its tail goes back, its head stays.
        auto head = take_front(*records, static_cast<size_t>(seq - last.seq));
        retained_records_ -= records->size();
        ch.buffered += records->size();
        ch.backlog.emplace_front(std::move(*records));
        last.content = std::move(head);
        break;
      }
      if (records) {
        retained_records_ -= records->size();
        ch.buffered += records->size();
      }
      ch.backlog.emplace_front(std::move(last.content));
      ch.retained.pop_back();
    }
    while (!ch.barriers.empty() && ch.barriers.back().second > seq)
      ch.barriers.pop_back();
    ch.sent = seq;
  }

  caf::local_actor* self_ = nullptr;
  size_t batch_size_ = 1024;
  uint32_t incarnation_ = 0;
  bool retain_ = false;
  std::vector<channel> channels_;
  /// The channel of an instance with one forward edge (the common chain), else null.
  channel* only_channel_ = nullptr;
  std::vector<edge> edges_;
  uint64_t records_sent_ = 0;
  uint64_t batches_sent_ = 0;
  uint64_t records_emitted_ = 0;
  uint64_t retained_records_ = 0;
  /// The checkpoint of the last barrier broadcast.
  uint64_t last_barrier_ = 0;
};

} // namespace sluice::detail
