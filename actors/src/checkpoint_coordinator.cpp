#include "sluice/actors/checkpoint_coordinator.hpp"

#include <chrono>
#include <deque>
#include <optional>
#include <unordered_set>

#include <caf/typed_event_based_actor.hpp>

#include "sluice/checkpoint_record.hpp"
#include "sluice/detail/send_from.hpp"
#include "sluice/error.hpp"

namespace sluice {

namespace {

using coordinator_impl = coordinator_actor::extend<caf::reacts_to<tick_atom>>;

/// Checkpoints whose statistics the coordinator keeps.
constexpr size_t kept_checkpoints = 100;

struct coordinator_state {
  coordinator_config config;
  checkpoint_record record;
  std::optional<uint64_t> in_flight;
  std::chrono::steady_clock::time_point triggered_at;
  /// A checkpoint was requested while one was in flight: trigger it when that one completes.
  bool requested = false;
  /// The last checkpoints, oldest first; the last is the one in flight, if any.
  std::deque<checkpoint_stats> history;
  std::unordered_set<uint32_t> acknowledged;
  /// Sources that have read everything, and the final checkpoint taken after all had.
  std::unordered_set<uint32_t> finished_sources;
  std::optional<uint64_t> final_checkpoint;
  bool final_completed = false;
  /// Instances that failed and are not yet replaced: no checkpoint is triggered meanwhile.
  std::unordered_set<uint32_t> recovering;
  bool ending = false;
  static inline const char* name = "sluice.checkpoint_coordinator";
};

using coordinator_pointer = coordinator_impl::stateful_pointer<coordinator_state>;

/// Saves the record; on failure the coordinator exits with the error (failing the job).
bool save(coordinator_pointer self) {
  try {
    self->state.record.save(self->state.config.record_path);
    return true;
  } catch (const std::exception& e) {
    self->quit(make_error(errc::io, std::string{"checkpoint coordinator: "} + e.what(),
                          self->state.config.record_path));
    return false;
  }
}

bool all_sources_finished(coordinator_pointer self) {
  auto& st = self->state;
  return st.finished_sources.size() == st.config.sources.size();
}

void trigger(coordinator_pointer self) {
  auto& st = self->state;
  if (st.ending || st.in_flight || st.final_checkpoint || !st.recovering.empty())
    return;
  auto id = st.record.triggered + 1;
  st.record.triggered = id;
  if (!save(self))
    return;
  st.in_flight = id;
  st.triggered_at = std::chrono::steady_clock::now();
  st.requested = false;
  st.acknowledged.clear();
  if (st.history.size() == kept_checkpoints)
    st.history.pop_front();
  st.history.push_back(checkpoint_stats{id, false, true, 0, {}});
  if (all_sources_finished(self))
    st.final_checkpoint = id;
  for (auto source : st.config.sources)
    detail::send_from(self, st.config.instances[source], trigger_checkpoint_msg{id});
  for (auto source : st.config.trailing_sources)
    detail::send_from(self, st.config.instances[source], trigger_checkpoint_msg{id});
}

/// Triggers the next checkpoint after the interval, or at once when the job's end or a request
/// waits for one.
void schedule_next(coordinator_pointer self) {
  auto& st = self->state;
  if (all_sources_finished(self) || st.requested)
    trigger(self);
  else
    self->delayed_send(self, st.config.interval, tick_atom::value);
}

/// An instance failed: the checkpoint in flight cannot complete (the failed incarnation may
/// have taken it, its successor will not), so it is abandoned, and none is triggered until the
/// instance is replaced.
restore_point_msg instance_failed(coordinator_pointer self, uint32_t instance) {
  auto& st = self->state;
  if (st.in_flight) {
    if (st.final_checkpoint == st.in_flight)
      st.final_checkpoint.reset();
    st.in_flight.reset();
    st.history.back().in_flight = false;
    st.requested = true; // make up for it once the instance is back
  }
  st.recovering.insert(instance);
  return {st.record.completed, st.record.triggered};
}

void instance_replaced(coordinator_pointer self, instance_replaced_msg& m) {
  auto& st = self->state;
  st.config.instances.at(m.instance) = m.handle;
  self->monitor(m.handle);
  if (st.recovering.erase(m.instance) > 0 && st.recovering.empty())
    schedule_next(self);
}

void acknowledge(coordinator_pointer self, const checkpoint_ack_msg& ack) {
  auto& st = self->state;
  if (!st.in_flight || *st.in_flight != ack.checkpoint)
    return; // a checkpoint abandoned because the job is ending
  if (!st.acknowledged.insert(ack.instance).second)
    return;
  auto& stats = st.history.back();
  const auto& [operator_name, index] = st.config.instance_names.at(ack.instance);
  stats.instances.push_back({operator_name, index, ack.alignment_ns, ack.write_ns, ack.bytes});
  if (st.acknowledged.size() < st.config.instances.size())
    return;
  st.record.completed = ack.checkpoint;
  st.in_flight.reset();
  stats.in_flight = false;
  stats.completed = true;
  stats.duration_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                        std::chrono::steady_clock::now() - st.triggered_at)
                        .count();
  if (!save(self))
    return;
  for (auto& instance : st.config.instances)
    detail::send_from(self, instance, checkpoint_done_msg{ack.checkpoint});
  if (st.final_checkpoint == ack.checkpoint) {
    // The job's end is covered: the sources may end their streams.
    st.final_completed = true;
    for (auto source : st.config.sources)
      detail::send_from(self, st.config.instances[source], finish_atom::value);
  } else {
    schedule_next(self);
  }
}

/// A source has read everything; once all have, the final checkpoint is taken at once. A
/// source restarted after it completed may end at once.
void source_finished(coordinator_pointer self, uint32_t instance) {
  auto& st = self->state;
  st.finished_sources.insert(instance);
  if (st.final_completed)
    detail::send_from(self, st.config.instances.at(instance), finish_atom::value);
  else if (all_sources_finished(self))
    trigger(self); // waits for a checkpoint in flight, if any: its completion triggers
}

coordinator_impl::behavior_type coordinator(coordinator_pointer self, coordinator_config config) {
  auto& st = self->state;
  st.config = std::move(config);
  st.record = st.config.record;
  for (auto& instance : st.config.instances)
    self->monitor(instance);
  self->set_down_handler([self](caf::down_msg& msg) {
    if (msg.reason)
      return; // failed: its supervisor reports it, if it restarts it
    // An instance finished: the job is ending, and no checkpoint can complete any more.
    auto& st = self->state;
    st.ending = true;
    st.in_flight.reset();
    if (!st.history.empty())
      st.history.back().in_flight = false; // abandoned, unless it completed
  });
  self->delayed_send(self, st.config.interval, tick_atom::value);
  return {
    [self](tick_atom) { trigger(self); },
    [self](checkpoint_ack_msg& ack) { acknowledge(self, ack); },
    [self](source_finished_msg& m) { source_finished(self, m.instance); },
    [self](retention_full_msg&) {
      // A checkpoint at once frees what the instance retains; sources pause meanwhile.
      auto& st = self->state;
      st.requested = true;
      trigger(self);
    },
    [self](instance_failed_msg& m) { return instance_failed(self, m.instance); },
    [self](instance_replaced_msg& m) { instance_replaced(self, m); },
    [self](checkpoints_atom) {
      auto& st = self->state;
      std::vector<checkpoint_stats> result{st.history.begin(), st.history.end()};
      if (st.in_flight)
        result.back().duration_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                                      std::chrono::steady_clock::now() - st.triggered_at)
                                      .count();
      return result;
    },
    [self](checkpoint_now_atom) -> caf::result<uint64_t> {
      auto& st = self->state;
      if (st.ending || st.final_checkpoint)
        return make_error(errc::cancelled,
                          "no checkpoint on request: the job is ending or has ended");
      if (st.in_flight) {
        st.requested = true;
        return st.record.triggered + 1;
      }
      trigger(self);
      if (!st.in_flight)
        return make_error(errc::state, "the checkpoint record could not be written");
      return *st.in_flight;
    },
  };
}

} // namespace

coordinator_actor spawn_checkpoint_coordinator(caf::actor_system& sys, coordinator_config config) {
  return caf::actor_cast<coordinator_actor>(sys.spawn(coordinator, std::move(config)));
}

} // namespace sluice
