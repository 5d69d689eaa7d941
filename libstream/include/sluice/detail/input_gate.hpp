#pragma once

#include <algorithm>
#include <cstdint>
#include <deque>
#include <utility>
#include <vector>

#include "sluice/detail/channel_element.hpp"
#include "sluice/detail/invariant.hpp"

namespace sluice::detail {

/// The receiving half of an instance: what arrives on its input channels, until it is handled.
///
/// The gate accepts an element only once: by the incarnation of its sender (what a replaced
/// upstream incarnation sent is stale) and by sequence number (what a channel delivered before
/// is a duplicate, as a restarted upstream sends again what the receiver may have). It queues
/// what it accepts, in arrival order, except on a channel told to `hold` (during a checkpoint's
/// alignment), which keeps its elements aside until `release`. And it returns credit for handled
/// records in lumps of half the input buffer: half the credit messages of granting per batch,
/// and the upstream never stalls, since at most half its window is ever held back here.
///
/// A channel's window (the credit its upstream may use) starts at the input buffer and grows
/// as TCP's receive window does under autotuning: when the instance has handled everything
/// while the upstream said, with its last batch, that it waits for credit, the window is too
/// small for the pair to work at once, and `starved` doubles it, up to the limit. (A stage that
/// emits several records for each it takes would otherwise fill its downstream's window with
/// one step, and the two would take turns.)
template <class In>
class input_gate {
public:
  using event = input_event<In>;

  /// Per input channel.
  struct channel {
    /// The incarnation of the upstream instance: what older ones sent is dropped.
    uint32_t incarnation = 0;
    /// The sequence numbers of the next element to arrive and of the next to be handled.
    uint64_t next = 0;
    uint64_t handled = 0;
    /// Records accepted and not yet handled.
    uint64_t queued = 0;
    /// Records handled but not yet granted back as credit, and records whose credit was
    /// granted back on arrival (during a replay) that are still to be handled.
    uint64_t ungranted = 0;
    uint64_t prepaid = 0;
    /// The credit the upstream may use, and whether its last batch left it waiting for more.
    uint64_t window = 0;
    bool upstream_waits = false;
    bool holding = false;
    std::deque<event> held;
  };

  /// How an arriving message with `n` elements fared: `fresh` of them are new, after the first
  /// `skip`, which the channel delivered already.
  struct admission {
    enum class verdict {
      accepted,  ///< `fresh` elements are new
      duplicate, ///< the channel delivered all of it before
      stale,     ///< sent by a replaced incarnation of the upstream instance
      gap,       ///< elements between what was delivered and this were lost: a protocol error
    };
    verdict what = verdict::accepted;
    uint64_t skip = 0;
    uint64_t fresh = 0;
  };

  /// Windows start at `input_buffer` records and grow up to `window_limit` (never below the
  /// start).
  input_gate(uint64_t input_buffer, uint64_t window_limit)
    : input_buffer_(input_buffer),
      window_limit_(std::max(input_buffer, window_limit)),
      grant_threshold_(std::max<uint64_t>(1, input_buffer / 2)) {}

  /// Sets up `channels` channels, with the incarnations of their upstream instances.
  void reset(const std::vector<uint32_t>& incarnations) {
    channels_.assign(incarnations.size(), channel{});
    for (size_t i = 0; i < incarnations.size(); ++i) {
      channels_[i].incarnation = incarnations[i];
      channels_[i].window = input_buffer_;
    }
    queue_.clear();
    queued_ = 0;
  }

  [[nodiscard]] size_t size() const noexcept { return channels_.size(); }
  [[nodiscard]] const channel& at(channel_index i) const { return channels_.at(i); }

  /// A restarted incarnation: the channel goes on from element `seq`.
  void resume_at(channel_index i, uint64_t seq) { channels_[i].next = channels_[i].handled = seq; }

  /// Checks a message of `n` elements from element `seq` on against what the channel delivered.
  admission accept(channel_index i, uint64_t seq, uint64_t n, uint32_t incarnation) {
    auto& in = channels_[i];
    if (incarnation != in.incarnation)
      return {admission::verdict::stale};
    if (seq > in.next)
      return {admission::verdict::gap};
    auto skip = in.next - seq;
    if (skip >= n)
      return {admission::verdict::duplicate, n, 0};
    in.next = seq + n;
    return {admission::verdict::accepted, skip, n - skip};
  }

  /// A restarted upstream instance took over channel `i`. Returns the credit it may use: the
  /// window less what is queued and not paid for already.
  int64_t reattach(channel_index i, uint32_t incarnation) {
    auto& in = channels_[i];
    in.incarnation = incarnation;
    in.ungranted = 0;
    in.upstream_waits = false;
    auto owed = static_cast<int64_t>(in.queued - in.prepaid);
    return std::max<int64_t>(static_cast<int64_t>(in.window) - owed, 0);
  }

  /// Counts `n` accepted records as queued, from a batch after which the upstream waits for
  /// credit or not; with `prepay`, their credit is returned at once (see `input_replayer`).
  void note_queued(channel_index i, uint64_t n, bool upstream_waits, bool prepay) {
    auto& in = channels_[i];
    in.queued += n;
    queued_ += n;
    peak_queued_ = std::max(peak_queued_, in.queued);
    in.upstream_waits = upstream_waits;
    if (prepay)
      in.prepaid += n;
    SLUICE_INVARIANT(in.queued - in.prepaid <= in.window,
                     "an upstream sends no more records than the credit it was granted");
  }

  /// Counts `n` elements of channel `i` as handled; `records` of them were records, which
  /// leave the queue. Returns the credit they earned: those not paid for on arrival.
  [[nodiscard]] uint64_t note_handled(channel_index i, uint64_t n, uint64_t records) {
    auto& in = channels_[i];
    in.handled += n;
    SLUICE_INVARIANT(in.queued >= records && queued_ >= records,
                     "an instance handles only records it queued");
    in.queued -= records;
    queued_ -= records;
    auto paid = std::min(in.prepaid, records);
    in.prepaid -= paid;
    return records - paid;
  }

  /// Adds `n` records' worth of credit for channel `i`; returns the credit to send now (0 until
  /// a lump is due).
  uint64_t grant(channel_index i, uint64_t n) {
    if (n == 0)
      return 0;
    auto& in = channels_[i];
    in.ungranted += n;
    if (in.ungranted < grant_threshold_)
      return 0;
    return std::exchange(in.ungranted, 0);
  }

  /// The instance handled all it had. Returns the credit to send channel `i` now: nothing
  /// unless its upstream waits for credit and nothing of the channel is queued or held; then
  /// what the channel holds back, and the window's growth (doubled, up to the limit).
  uint64_t starved(channel_index i) {
    auto& in = channels_[i];
    if (!in.upstream_waits || in.queued > 0 || in.holding)
      return 0;
    in.upstream_waits = false;
    auto grown = std::min(2 * in.window, window_limit_);
    auto credit = grown - in.window + std::exchange(in.ungranted, 0);
    in.window = grown;
    return credit;
  }

  /// Puts an accepted element in the queue, or aside if its channel holds.
  void admit(event&& e) {
    auto& in = channels_[channel_of<In>(e)];
    if (in.holding)
      in.held.push_back(std::move(e));
    else
      queue_.push_back(std::move(e));
  }

  /// True if channel `i` holds its elements aside.
  [[nodiscard]] bool holding(channel_index i) const { return channels_[i].holding; }

  /// Channel `i` holds what arrives from now on aside. Returns true if it is the first channel
  /// to hold.
  bool hold(channel_index i) {
    if (channels_[i].holding)
      return false;
    bool first =
      std::none_of(channels_.begin(), channels_.end(), [](const channel& c) { return c.holding; });
    channels_[i].holding = true;
    return first;
  }

  /// Channel `i` stops holding: what it held arrives now, in order, through `readmit(event&&)`
  /// (which may hold the channel again).
  template <class Readmit>
  void release(channel_index i, Readmit&& readmit) {
    auto& in = channels_[i];
    in.holding = false;
    auto held = std::move(in.held);
    in.held.clear();
    for (auto& e : held)
      readmit(std::move(e));
  }

  [[nodiscard]] std::deque<event>& queue() noexcept { return queue_; }
  [[nodiscard]] uint64_t queued() const noexcept { return queued_; }
  [[nodiscard]] uint64_t peak_queued_per_channel() const noexcept { return peak_queued_; }
  [[nodiscard]] uint64_t input_buffer() const noexcept { return input_buffer_; }
  /// The most a channel's window grows to: the bound on the records queued at one input.
  [[nodiscard]] uint64_t window_limit() const noexcept { return window_limit_; }

  /// Per channel, the sequence number of the next element to handle.
  [[nodiscard]] std::vector<uint64_t> handled_positions() const {
    std::vector<uint64_t> result;
    for (const auto& in : channels_)
      result.push_back(in.handled);
    return result;
  }

  void clear() {
    channels_.clear();
    queue_.clear();
  }

private:
  uint64_t input_buffer_;
  uint64_t window_limit_;
  uint64_t grant_threshold_;
  std::vector<channel> channels_;
  std::deque<event> queue_;
  uint64_t queued_ = 0;
  uint64_t peak_queued_ = 0;
};

} // namespace sluice::detail
