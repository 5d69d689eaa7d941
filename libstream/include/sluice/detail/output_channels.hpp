#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include <caf/local_actor.hpp>

#include "sluice/detail/channel_element.hpp"
#include "sluice/detail/channel_retention.hpp"
#include "sluice/detail/invariant.hpp"
#include "sluice/detail/partitioner.hpp"
#include "sluice/detail/round_trip.hpp"
#include "sluice/detail/send_from.hpp"
#include "sluice/detail/wiring.hpp"
#include "sluice/interfaces.hpp"
#include "sluice/messages.hpp"
#include "sluice/record.hpp"

namespace sluice::detail {

/// How an instance's output channels reach their downstream instances: CAF messages from the
/// instance's actor, serialized on the way when `serialize` (as they would be to another
/// process). Tests put a recorder in its place.
template <class T>
struct actor_transport {
  caf::local_actor* self = nullptr;
  bool serialize = false;

  template <class Message>
  void send(uint32_t /*output*/, const input_actor<T>& target, Message&& msg) const {
    if (serialize) [[unlikely]]
      send_from(self, target, round_trip(self->system(), msg));
    else
      send_from(self, target, std::forward<Message>(msg));
  }
};

/// The sending half of an instance: cuts what it emits into batches per channel and sends them
/// within credit.
///
/// Each outgoing edge has a `partitioner` that picks a record's channels. A channel sends only as
/// many records as its downstream granted credit for. Markers (watermark, idle, barrier, cancel,
/// end of stream) take no credit but stay in order behind the records emitted before them:
/// while records wait for credit, a marker waits behind them in the channel's backlog.
///
/// Every element (record or marker) gets the next sequence number of its channel. When the job
/// can recover (`retain`), a channel keeps what it sent (`channel_retention`) until a checkpoint
/// completes, so that a restarted downstream instance can have it again (`attach`); a restarted
/// instance emits what its downstream already has without sending it.
template <class T, class Transport = actor_transport<T>>
class output_channels {
public:
  /// Sets up the channels of `edges`, whose keys (of hash edges) `key_hashes` hashes.
  void configure(Transport transport, std::vector<edge_wiring<T>> edges,
                 const std::vector<typename partitioner<T>::key_hash>& key_hashes,
                 size_t batch_size, uint32_t incarnation, bool retain) {
    transport_ = std::move(transport);
    batch_size_ = batch_size;
    incarnation_ = incarnation;
    retain_ = retain;
    channels_.clear();
    edges_.clear();
    for (size_t i = 0; i < edges.size(); ++i) {
      auto& e = edges[i];
      SLUICE_INVARIANT(e.kind != partitioning::hash || (i < key_hashes.size() && key_hashes[i]),
                       "a hash edge has a key hash");
      edges_.push_back({partitioner<T>{e.kind, i < key_hashes.size() ? key_hashes[i] : nullptr,
                                       e.max_parallelism, e.targets.size(), batch_size},
                        channels_.size()});
      for (auto& t : e.targets) {
        channel ch;
        ch.target = std::move(t.actor);
        ch.index = t.channel;
        ch.target_incarnation = t.incarnation;
        channels_.push_back(std::move(ch));
      }
    }
    only_channel_ = edges_.size() == 1 && edges_[0].route.kind() == partitioning::forward
                      ? &channels_[0]
                      : nullptr;
  }

  /// Routes one record to the channels of every edge.
  void emit(T&& value, timestamp time) {
    ++records_emitted_;
    if (only_channel_) [[likely]] {
      push(*only_channel_, std::move(value), time);
      return;
    }
    const auto n = edges_.size();
    for (size_t i = 0; i + 1 < n; ++i)
      route(edges_[i], T(value), time);
    if (n > 0)
      route(edges_[n - 1], std::move(value), time);
  }

  /// Emits a whole batch of records; the vector is left empty. With a single forward channel
  /// and nothing waiting on it, a vector of at most one batch that has room for a whole one
  /// becomes the channel's buffer: no record is copied or moved. (A smaller vector would make
  /// the buffer grow by reallocation as records follow.)
  void emit_batch(std::vector<record<T>>& records) {
    if (only_channel_ && only_channel_->buffer.empty() && only_channel_->backlog.empty()
        && records.size() <= batch_size_ && records.capacity() >= batch_size_) {
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
  void broadcast(const channel_marker& m) {
    if (const auto* b = std::get_if<barrier_msg>(&m))
      last_barrier_ = b->checkpoint;
    for (auto& ch : channels_) {
      auto msg = m;
      std::visit([&](auto& x) { x.channel = ch.index; }, msg);
      ++ch.emitted;
      if (ch.attached && ch.backlog.empty() && ch.buffer.empty()) {
        send_marker(ch, std::move(msg));
        continue;
      }
      if (!ch.buffer.empty()) {
        ch.backlog.emplace_back(std::move(ch.buffer));
        ch.buffer = {};
      } else if (!retain_ && std::holds_alternative<watermark_msg>(msg) && !ch.backlog.empty()
                 && std::holds_alternative<channel_marker>(ch.backlog.back())
                 && std::holds_alternative<watermark_msg>(
                   std::get<channel_marker>(ch.backlog.back()))) {
        // Only the newest of consecutive waiting watermarks matters. (Not when retaining: the
        // elements of a channel must not depend on when credit came.)
        ch.backlog.back() = std::move(msg);
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
    for (auto& e : edges_)
      e.route.resume_at(emitted); // every record passes every edge
  }

  /// A restarted incarnation says hello to every downstream instance, which answers where its
  /// channel resumes (see `attach`).
  void say_hello(const output_actor<T>& self_handle) {
    for (uint32_t output = 0; output < channels_.size(); ++output) {
      auto& ch = channels_[output];
      transport_.send(output, ch.target,
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
      auto first_kept = ch.retention.first_kept(ch.sent);
      if (resume_seq < first_kept)
        return "cannot replay output " + std::to_string(output) + " from element "
               + std::to_string(resume_seq) + ": what was sent is kept from element "
               + std::to_string(first_kept) + " on";
      auto handed = ch.retention.rewind(
        resume_seq, [&](channel_segment<T>&& s) { ch.backlog.emplace_front(std::move(s)); });
      retained_records_ -= handed;
      ch.buffered += handed;
      ch.sent = resume_seq;
    }
    ch.suppress_below = resume_seq;
    send(ch, false);
    return std::nullopt;
  }

  /// Checkpoint `checkpoint` completed: drops what was sent before its barrier.
  void release(uint64_t checkpoint) {
    if (!retain_ || checkpoint > last_barrier_)
      return;
    for (auto& ch : channels_)
      retained_records_ -= ch.retention.release(checkpoint, ch.sent);
  }

  /// Drops every channel and with it the handles of downstream instances. What the channels
  /// retained is freed on a background thread.
  void clear() {
    only_channel_ = nullptr;
    for (auto& ch : channels_)
      ch.retention.dispose();
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
    std::deque<channel_segment<T>> backlog;
    /// Records in `buffer` and `backlog` together.
    size_t buffered = 0;
    channel_retention<T> retention;
  };

  struct edge {
    partitioner<T> route;
    size_t first = 0;
  };

  void route(edge& e, T&& value, timestamp time) {
    e.route.route(std::move(value),
                  [&](size_t i, T&& v) { push(channels_[e.first + i], std::move(v), time); });
  }

  /// Appends a record, and sends a batch it completed.
  void push(channel& ch, T&& value, timestamp time) {
    if (ch.buffer.capacity() == 0)
      ch.buffer.reserve(batch_size_);
    ch.buffer.emplace_back(std::move(value), time);
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
  void send_marker(channel& ch, channel_marker m) {
    auto seq = ch.sent++;
    if (seq >= ch.suppress_below) {
      std::visit(
        [&](auto& x) {
          x.seq = seq;
          x.incarnation = incarnation_;
          transport_.send(output_of(ch), ch.target, x);
        },
        m);
    }
    if (retain_)
      ch.retention.keep(seq, std::move(m));
  }

  /// Sends records up to credit: the backlog first, then the buffer if it holds a full batch
  /// (or anything, when `force`).
  void send(channel& ch, bool force) {
    if (!ch.attached)
      return;
    while (!ch.backlog.empty()) {
      auto& front = ch.backlog.front();
      if (auto* m = std::get_if<channel_marker>(&front)) {
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
    SLUICE_INVARIANT(ch.buffered >= static_cast<size_t>(n), "a channel sends what it buffers");
    batch<T> b;
    b.channel = ch.index;
    b.seq = ch.sent;
    b.incarnation = incarnation_;
    b.records = take_front(records, static_cast<size_t>(n));
    ch.credit -= n;
    b.sender_waits = ch.credit < static_cast<int64_t>(batch_size_);
    ch.buffered -= static_cast<size_t>(n);
    records_sent_ += static_cast<uint64_t>(n);
    ++batches_sent_;
    if (retain_) {
      auto copy = b.records;
      transport_.send(output_of(ch), ch.target, std::move(b));
      keep(ch, std::move(copy));
    } else {
      ch.sent += static_cast<uint64_t>(n);
      transport_.send(output_of(ch), ch.target, std::move(b));
    }
  }

  /// Counts `records` as sent, keeping them when retaining.
  void keep(channel& ch, std::vector<record<T>>&& records) {
    auto seq = ch.sent;
    ch.sent += records.size();
    if (!retain_)
      return;
    retained_records_ += records.size();
    ch.retention.keep(seq, std::move(records));
  }

  [[nodiscard]] uint32_t output_of(const channel& ch) const noexcept {
    return static_cast<uint32_t>(&ch - channels_.data());
  }

  Transport transport_;
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
