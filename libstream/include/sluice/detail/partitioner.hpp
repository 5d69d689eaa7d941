#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <utility>

#include "sluice/key_group.hpp"

namespace sluice {

/// How an edge spreads records over the instances of its downstream operator.
enum class partitioning {
  forward,   ///< instance i sends to instance i (equal parallelism)
  rebalance, ///< round robin, one batch at a time
  hash,      ///< by key group of the record's key
  broadcast, ///< every record to every instance
};

} // namespace sluice

namespace sluice::detail {

/// Chooses the channels of one outgoing edge that a record goes to.
///
/// Routing depends only on the records, never on when batches were sent: a restarted instance
/// that emits the same records routes them to the same channels (`resume_at`).
template <class T>
class partitioner {
public:
  /// Stable hash of a record's key (for `partitioning::hash`).
  using key_hash = std::function<uint64_t(const T&)>;

  partitioner(partitioning kind, key_hash hash, uint32_t max_parallelism, size_t channels,
              size_t turn_size)
    : kind_(kind),
      hash_(std::move(hash)),
      max_parallelism_(max_parallelism),
      channels_(channels),
      turn_size_(turn_size),
      group_bits_(std::has_single_bit(max_parallelism) ? std::countr_zero(max_parallelism) : -1) {}

  [[nodiscard]] partitioning kind() const noexcept { return kind_; }
  [[nodiscard]] size_t channels() const noexcept { return channels_; }

  /// Hands `value` to `deliver(channel, T&&)` for each channel it goes to (channels counted
  /// within the edge); a broadcast copies it for all but the first.
  template <class Deliver>
  void route(T&& value, Deliver&& deliver) {
    switch (kind_) {
      case partitioning::forward:
        deliver(size_t{0}, std::move(value));
        return;
      case partitioning::rebalance: {
        // Turns of `turn_size` records each, counted rather than cut by sends.
        auto channel = next_;
        if (++in_turn_ == turn_size_) {
          in_turn_ = 0;
          next_ = (next_ + 1) % channels_;
        }
        deliver(channel, std::move(value));
        return;
      }
      case partitioning::hash: {
        if (channels_ == 1) { // one downstream instance takes every key: nothing to hash
          deliver(size_t{0}, std::move(value));
          return;
        }
        deliver(channel_of(hash_(value)), std::move(value));
        return;
      }
      case partitioning::broadcast:
        for (size_t i = 1; i < channels_; ++i)
          deliver(i, T(value));
        deliver(size_t{0}, std::move(value));
        return;
    }
  }

  /// Goes on as if `emitted` records had been routed: a round robin's turn follows from the
  /// count, every other kind from the record.
  void resume_at(uint64_t emitted) noexcept {
    in_turn_ = emitted % turn_size_;
    next_ = channels_ > 0 ? (emitted / turn_size_) % channels_ : 0;
  }

private:
  /// The channel of the instance that owns the key group of `hash` (key_group_of,
  /// instance_of_key_group), by a mask and a shift when max_parallelism is a power of two (as
  /// by default): two divisions were a third of routing a record.
  [[nodiscard]] size_t channel_of(uint64_t hash) const noexcept {
    if (group_bits_ >= 0) {
      auto group = hash & (max_parallelism_ - 1);
      return static_cast<size_t>((group * channels_) >> group_bits_);
    }
    auto group = static_cast<uint32_t>(hash % max_parallelism_);
    return instance_of_key_group(group, static_cast<uint32_t>(channels_), max_parallelism_);
  }

  partitioning kind_;
  key_hash hash_;
  uint32_t max_parallelism_;
  size_t channels_;
  size_t turn_size_;
  /// log2(max_parallelism) if it is a power of two, else -1.
  int group_bits_;
  /// The round robin's channel and the records it took in its current turn.
  size_t next_ = 0;
  size_t in_turn_ = 0;
};

} // namespace sluice::detail
