#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <utility>
#include <variant>
#include <vector>

#include <caf/local_actor.hpp>
#include <caf/message_id.hpp>
#include <caf/send.hpp>

#include "sluice/interfaces.hpp"
#include "sluice/key_group.hpp"
#include "sluice/messages.hpp"
#include "sluice/record.hpp"

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
template <class Out>
struct wiring {
  std::vector<edge_wiring<Out>> outputs;
  /// For each input channel: the upstream instance and its output index for this channel.
  std::vector<std::pair<output_actor, uint32_t>> inputs;
  /// Where to acknowledge checkpoints (null when the job takes none), and this instance's
  /// number in the job.
  coordinator_actor coordinator;
  uint32_t instance_number = 0;
};

} // namespace sluice

namespace caf {
template <class Out>
struct allowed_unsafe_message_type<sluice::wiring<Out>> : std::true_type {};
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
template <class T>
class output_channels {
public:
  using marker = std::variant<watermark_msg, idle_msg, end_of_stream_msg, barrier_msg>;

  void configure(caf::local_actor* self, std::vector<edge_wiring<T>> edges, size_t batch_size) {
    self_ = self;
    batch_size_ = batch_size;
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
        channels_.push_back(std::move(ch));
      }
      edges_.push_back(std::move(ed));
    }
    only_channel_ =
      edges_.size() == 1 && edges_[0].kind == partitioning::forward ? &channels_[0] : nullptr;
  }

  /// Routes one record to the channels of every edge.
  void emit(T&& value, timestamp time) {
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
      route(edges_[i], T{value}, time);
    if (n > 0)
      route(edges_[n - 1], std::move(value), time);
  }

  /// Emits a whole batch of records. With a single forward channel and nothing waiting on it,
  /// a vector of at most one batch becomes the channel's buffer: no record is copied or moved.
  void emit_batch(std::vector<record<T>>&& records) {
    if (only_channel_ && only_channel_->buffer.empty() && only_channel_->backlog.empty()
        && records.size() <= batch_size_) {
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
  void add_credit(uint32_t output, int64_t records) {
    auto& ch = channels_.at(output);
    ch.credit += records;
    send(ch, false);
  }

  /// Sends a marker on every channel, in order behind buffered records.
  void broadcast(const marker& m) {
    for (auto& ch : channels_) {
      auto msg = m;
      std::visit([&](auto& x) { x.channel = ch.index; }, msg);
      if (ch.backlog.empty() && ch.buffer.empty()) {
        send_marker(ch, msg);
        continue;
      }
      if (!ch.buffer.empty()) {
        ch.backlog.emplace_back(std::move(ch.buffer));
        ch.buffer = {};
      } else if (!ch.backlog.empty() && std::holds_alternative<watermark_msg>(msg)
                 && std::holds_alternative<marker>(ch.backlog.back())
                 && std::holds_alternative<watermark_msg>(std::get<marker>(ch.backlog.back()))) {
        // Only the newest of consecutive waiting watermarks matters.
        ch.backlog.back() = msg;
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

  /// Drops every channel and with it the handles of downstream instances.
  void clear() {
    only_channel_ = nullptr;
    channels_.clear();
    edges_.clear();
  }

  [[nodiscard]] size_t channel_count() const noexcept { return channels_.size(); }
  [[nodiscard]] uint64_t records_sent() const noexcept { return records_sent_; }
  [[nodiscard]] uint64_t batches_sent() const noexcept { return batches_sent_; }

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

  struct channel {
    input_actor<T> target;
    channel_index index = 0;
    int64_t credit = 0;
    uint64_t seq = 0;
    /// Records emitted since the last marker that waits.
    std::vector<record<T>> buffer;
    /// Older records and markers, in emission order; empty unless a marker had to wait.
    std::deque<segment> backlog;
    /// Records in `buffer` and `backlog` together.
    size_t buffered = 0;
  };

  struct edge {
    partitioning kind = partitioning::forward;
    std::function<uint64_t(const T&)> key_hash;
    uint32_t max_parallelism = 128;
    size_t first = 0;
    size_t count = 0;
    size_t next = 0;
  };

  void route(edge& e, T&& value, timestamp time) {
    switch (e.kind) {
      case partitioning::forward:
        push(channels_[e.first], std::move(value), time);
        return;
      case partitioning::rebalance: {
        auto& ch = channels_[e.first + e.next];
        if (push(ch, std::move(value), time))
          e.next = (e.next + 1) % e.count;
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
          push(channels_[e.first + i], T{value}, time);
        push(channels_[e.first], std::move(value), time);
        return;
    }
  }

  /// Appends a record; returns true when that filled a batch.
  bool push(channel& ch, T&& value, timestamp time) {
    if (ch.buffer.capacity() == 0)
      ch.buffer.reserve(batch_size_);
    ch.buffer.push_back(record<T>{std::move(value), time});
    ++ch.buffered;
    if (ch.buffer.size() < batch_size_)
      return false;
    send(ch, false);
    if (!ch.buffer.empty()) {
      // No credit for it: park the full batch so the buffer never grows past one batch and a
      // later partial send never shifts a long vector.
      ch.backlog.emplace_back(std::move(ch.buffer));
      ch.buffer = {};
    }
    return true;
  }

  void send_marker(channel& ch, const marker& m) {
    std::visit([&](const auto& x) { send_from(self_, ch.target, x); }, m);
  }

  /// Sends records up to credit: the backlog first, then the buffer if it holds a full batch
  /// (or anything, when `force`).
  void send(channel& ch, bool force) {
    while (!ch.backlog.empty()) {
      auto& front = ch.backlog.front();
      if (auto* m = std::get_if<marker>(&front)) {
        send_marker(ch, *m);
        ch.backlog.pop_front();
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

  /// Sends as many of `records` as credit allows and removes them from it.
  void send_records(channel& ch, std::vector<record<T>>& records) {
    auto n = std::min<int64_t>(ch.credit, static_cast<int64_t>(records.size()));
    if (n <= 0)
      return;
    batch<T> b;
    b.channel = ch.index;
    b.seq = ch.seq;
    if (static_cast<size_t>(n) == records.size()) {
      b.records = std::move(records);
      records = {};
    } else {
      b.records.reserve(static_cast<size_t>(n));
      std::move(records.begin(), records.begin() + n, std::back_inserter(b.records));
      records.erase(records.begin(), records.begin() + n);
    }
    ch.credit -= n;
    ch.seq += static_cast<uint64_t>(n);
    ch.buffered -= static_cast<size_t>(n);
    records_sent_ += static_cast<uint64_t>(n);
    ++batches_sent_;
    send_from(self_, ch.target, std::move(b));
  }

  caf::local_actor* self_ = nullptr;
  size_t batch_size_ = 1024;
  std::vector<channel> channels_;
  /// The channel of an instance with one forward edge (the common chain), else null.
  channel* only_channel_ = nullptr;
  std::vector<edge> edges_;
  uint64_t records_sent_ = 0;
  uint64_t batches_sent_ = 0;
};

} // namespace sluice::detail
