#pragma once

// Fake neighbours for testing one host in isolation: they record what the host sends them.

#include <map>
#include <memory>
#include <variant>
#include <vector>

#include <caf/actor_system.hpp>

#include "sluice/all.hpp"

namespace sluice::test {

/// Anything a host sends downstream on a channel of ints.
using int_event =
  std::variant<batch<int>, watermark_msg, idle_msg, end_of_stream_msg, barrier_msg, cancel_msg>;

/// What the fakes received.
struct fake_log {
  std::vector<credit_msg> credit;
  std::vector<int_event> downstream;
  std::vector<checkpoint_ack_msg> acks;

  /// Records sent downstream, in order.
  [[nodiscard]] std::vector<int> values() const {
    std::vector<int> v;
    for (const auto& e : downstream)
      if (const auto* b = std::get_if<batch<int>>(&e))
        for (const auto& r : b->records)
          v.push_back(r.value);
    return v;
  }
};

// Each fake gets the log as a spawn argument: CAF 0.17 dereferences a null argument tuple for
// function actors spawned without arguments, which UBSan reports.

/// An upstream instance that records the credit it is granted.
inline output_actor<int> spawn_fake_upstream(caf::actor_system& sys,
                                             std::shared_ptr<fake_log> log) {
  return sys.spawn(
    [](output_actor<int>::pointer,
       std::shared_ptr<fake_log> rec) -> output_actor<int>::behavior_type {
      return {
        [rec](credit_msg c) { rec->credit.push_back(c); },
        [](attach_downstream_msg<int>&) {},
      };
    },
    std::move(log));
}

/// Numbers what a test sends on each input channel of a host, as an upstream would.
class channel_stamps {
public:
  batch<int> batch_of(channel_index channel, const std::vector<int>& values) {
    batch<int> b;
    b.channel = channel;
    b.seq = next_[channel];
    for (int v : values)
      b.records.push_back({v, 0});
    next_[channel] += values.size();
    return b;
  }

  template <class Marker>
  Marker marker(Marker m) {
    m.seq = next_[m.channel]++;
    return m;
  }

private:
  std::map<channel_index, uint64_t> next_;
};

/// A downstream instance that records batches and markers.
inline input_actor<int> spawn_fake_downstream(caf::actor_system& sys,
                                              std::shared_ptr<fake_log> log) {
  return sys.spawn(
    [](input_actor<int>::pointer,
       std::shared_ptr<fake_log> rec) -> input_actor<int>::behavior_type {
      return {
        [rec](batch<int>& b) { rec->downstream.emplace_back(std::move(b)); },
        [rec](watermark_msg m) { rec->downstream.emplace_back(m); },
        [rec](idle_msg m) { rec->downstream.emplace_back(m); },
        [rec](end_of_stream_msg m) { rec->downstream.emplace_back(m); },
        [rec](barrier_msg m) { rec->downstream.emplace_back(m); },
        [rec](cancel_msg m) { rec->downstream.emplace_back(m); },
        [](attach_upstream_msg<int>&) {},
      };
    },
    std::move(log));
}

/// A checkpoint coordinator that records acknowledgements.
inline coordinator_actor spawn_fake_coordinator(caf::actor_system& sys,
                                                std::shared_ptr<fake_log> log) {
  return sys.spawn(
    [](coordinator_actor::pointer,
       std::shared_ptr<fake_log> rec) -> coordinator_actor::behavior_type {
      return {
        [rec](checkpoint_ack_msg& m) { rec->acks.push_back(m); },
        [](source_finished_msg&) {},
        [](retention_full_msg&) {},
        [](instance_failed_msg&) { return restore_point_msg{}; },
        [](instance_replaced_msg&) {},
        [](checkpoints_atom) { return std::vector<checkpoint_stats>{}; },
        [](checkpoint_now_atom) { return uint64_t{0}; },
      };
    },
    std::move(log));
}

} // namespace sluice::test
