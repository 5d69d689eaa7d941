#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <queue>
#include <vector>

#include <caf/actor_control_block.hpp>
#include <caf/message.hpp>

namespace sluice::detail {

/// Messages to deliver at a given time, earliest first; of two due at the same time, the one
/// added first. Not thread-safe: its owner (the parking scheduler) guards it.
class timer_heap {
public:
  using clock = std::chrono::steady_clock;

  struct entry {
    clock::time_point at;
    caf::strong_actor_ptr receiver;
    caf::message content;
    uint64_t order = 0;
  };

  /// Adds a message for `receiver` at `at`.
  void add(clock::time_point at, caf::strong_actor_ptr receiver, caf::message content) {
    entries_.push({at, std::move(receiver), std::move(content), next_order_++});
  }

  /// Removes the entries due at `now` and returns them, earliest first.
  std::vector<entry> take_due(clock::time_point now) {
    std::vector<entry> due;
    while (!entries_.empty() && entries_.top().at <= now) {
      due.push_back(entries_.top());
      entries_.pop();
    }
    return due;
  }

  /// When the earliest entry is due; none if there is none.
  [[nodiscard]] std::optional<clock::time_point> earliest() const {
    if (entries_.empty())
      return std::nullopt;
    return entries_.top().at;
  }

  [[nodiscard]] bool empty() const noexcept { return entries_.empty(); }

  /// Drops every entry (and its reference to its receiver).
  void clear() { entries_ = {}; }

private:
  struct later {
    bool operator()(const entry& a, const entry& b) const {
      return a.at != b.at ? a.at > b.at : a.order > b.order;
    }
  };

  std::priority_queue<entry, std::vector<entry>, later> entries_;
  uint64_t next_order_ = 0;
};

} // namespace sluice::detail
