#include "sluice/actors/operator_supervisor.hpp"

#include <chrono>
#include <set>
#include <string>
#include <vector>

#include <caf/event_based_actor.hpp>
#include <caf/exit_reason.hpp>
#include <caf/stateful_actor.hpp>

#include "sluice/actors/restart_budget.hpp"
#include "sluice/error.hpp"

namespace sluice {

namespace {

using restart_atom = caf::atom_constant<caf::atom("restart")>;

/// How long a supervisor waits for the coordinator to answer where to restore to.
constexpr auto coordinator_timeout = std::chrono::seconds(30);

struct supervisor_state {
  std::shared_ptr<detail::graph> graph;
  size_t node = 0;
  /// Per instance: its live incarnation (null while none runs), and whether it finished.
  std::vector<caf::actor> live;
  std::vector<bool> finished;
  /// Instances to restart once they are down, and those waiting for their restore point.
  std::set<uint32_t> pending;
  std::set<uint32_t> starting;
  bool restart_scheduled = false;
  std::chrono::milliseconds delay{0};
  bool keep_order = true;
  std::unique_ptr<restart_budget> budget;
  std::string last_failure;
  /// Set once stopping: the reason to exit with when the last instance is down.
  std::optional<caf::error> stopping;
  static inline const char* name = "sluice.operator_supervisor";
};

using supervisor = caf::stateful_actor<supervisor_state>;

detail::node_base& node_of(supervisor* self) {
  return *self->state.graph->nodes[self->state.node];
}

bool none_live(supervisor* self) {
  for (const auto& a : self->state.live)
    if (a)
      return false;
  return true;
}

/// Stops every live instance; exits with `reason` once all are down.
void stop(supervisor* self, caf::error reason) {
  auto& st = self->state;
  bool shutdown = reason == caf::exit_reason::user_shutdown;
  st.stopping = shutdown ? caf::error{} : reason;
  for (const auto& a : st.live)
    if (a)
      self->send_exit(a, shutdown ? caf::exit_reason::user_shutdown : caf::exit_reason::kill);
  if (none_live(self))
    self->quit(*st.stopping);
}

/// The new incarnation of instance `index` starts from `point`.
void start_incarnation(supervisor* self, uint32_t index, const restore_point_msg& point) {
  auto& st = self->state;
  st.starting.erase(index);
  if (st.stopping)
    return;
  auto& node = node_of(self);
  detail::restart_plan plan{point.completed, point.abandoned_through, st.keep_order};
  caf::actor incarnation;
  {
    std::lock_guard<std::mutex> guard{st.graph->mutex};
    incarnation = node.restart(*st.graph, st.node, index, plan, st.last_failure);
  }
  st.live[index] = incarnation;
  self->monitor(incarnation);
  instance_replaced_msg replaced{node.first_instance_number + index,
                                 caf::actor_cast<control_actor>(incarnation),
                                 node.incarnation(index)};
  if (st.graph->job.cluster_observer)
    self->send(st.graph->job.cluster_observer, replaced);
  self->send(st.graph->job.coordinator, std::move(replaced));
  if (st.starting.empty() && st.pending.empty())
    st.keep_order = true; // a restart of the whole operator by the parent is done
}

/// Asks the coordinator where each pending instance restores to, then starts it.
void restart_pending(supervisor* self) {
  auto& st = self->state;
  st.restart_scheduled = false;
  if (st.stopping)
    return;
  auto pending = std::move(st.pending);
  st.pending.clear();
  for (auto index : pending) {
    st.starting.insert(index);
    self
      ->request(st.graph->job.coordinator, coordinator_timeout,
                instance_failed_msg{node_of(self).first_instance_number + index})
      .then([self, index](restore_point_msg& point) { start_incarnation(self, index, point); },
            [self](caf::error& err) {
              stop(self, make_gave_up("operator '" + node_of(self).name
                                        + "': no restore point from the checkpoint "
                                          "coordinator: "
                                        + describe(err),
                                      err));
            });
  }
}

/// Restarts the pending instances after the backoff, once all of them are down.
void schedule_restart(supervisor* self) {
  auto& st = self->state;
  if (st.restart_scheduled || st.pending.empty())
    return;
  for (auto index : st.pending)
    if (st.live[index])
      return; // its down message schedules
  st.restart_scheduled = true;
  self->delayed_send(self, st.delay, restart_atom::value);
}

/// The instances that restart with `index` under the operator's strategy.
std::vector<uint32_t> restart_set(supervisor* self, uint32_t index) {
  auto& node = node_of(self);
  std::vector<uint32_t> set;
  for (uint32_t i = 0; i < node.effective_parallelism; ++i) {
    if (!self->state.graph->job.runs_here(node.first_instance_number + i))
      continue; // another node's supervisor restarts it
    switch (node.supervise.strategy) {
      case restart_strategy::one_for_one:
        if (i == index)
          set.push_back(i);
        break;
      case restart_strategy::one_for_all:
        set.push_back(i);
        break;
      case restart_strategy::rest_for_one:
        if (i >= index)
          set.push_back(i);
        break;
    }
  }
  return set;
}

void on_failure(supervisor* self, uint32_t index, const caf::error& reason) {
  auto& st = self->state;
  auto& node = node_of(self);
  st.last_failure = describe(reason);
  if (!st.graph->recovers() || node.on_failure == failure_policy::fail)
    return stop(self, reason);
  if (!st.budget->take())
    return stop(self, make_gave_up("operator '" + node.name + "' gave up after more than "
                                     + st.budget->limit() + "; last failure: " + st.last_failure,
                                   reason));
  st.delay = st.budget->delay();
  for (auto i : restart_set(self, index)) {
    if (st.starting.count(i) > 0)
      continue; // on its way back already
    st.pending.insert(i);
    if (st.live[i])
      self->send_exit(st.live[i], caf::exit_reason::kill);
  }
  schedule_restart(self);
}

void on_down(supervisor* self, caf::down_msg& msg) {
  auto& st = self->state;
  uint32_t index = 0;
  while (index < st.live.size() && st.live[index].address() != msg.source)
    ++index;
  if (index == st.live.size())
    return; // an incarnation replaced already
  st.live[index] = nullptr;
  if (st.stopping) {
    if (none_live(self))
      self->quit(*st.stopping);
    return;
  }
  if (st.pending.count(index) > 0)
    return schedule_restart(self); // stopped to restart with another
  if (!msg.reason) {
    st.finished[index] = true;
    for (bool f : st.finished)
      if (!f)
        return;
    self->quit();
    return;
  }
  on_failure(self, index, msg.reason);
}

caf::behavior operator_supervisor(supervisor* self, std::shared_ptr<detail::graph> g, size_t node,
                                  operator_start how) {
  auto& st = self->state;
  st.graph = std::move(g);
  st.node = node;
  st.budget = std::make_unique<restart_budget>(node_of(self).supervise);
  st.finished.assign(node_of(self).effective_parallelism, false);
  st.live.resize(node_of(self).effective_parallelism);
  self->set_down_handler([self](caf::down_msg& msg) { on_down(self, msg); });
  self->set_exit_handler([self](caf::exit_msg& msg) { stop(self, msg.reason); });
  if (how == operator_start::adopt) {
    std::lock_guard<std::mutex> guard{st.graph->mutex};
    st.live = node_of(self).actors();
    for (uint32_t i = 0; i < st.live.size(); ++i) {
      if (st.live[i])
        self->monitor(st.live[i]);
      else
        st.finished[i] = true; // it runs on another node of the cluster
    }
  } else {
    st.keep_order = how == operator_start::restart_replaying;
    for (uint32_t i = 0; i < st.live.size(); ++i)
      st.pending.insert(i);
    schedule_restart(self);
  }
  return {[self](restart_atom) { restart_pending(self); }};
}

} // namespace

caf::actor spawn_operator_supervisor(caf::actor_system& sys, std::shared_ptr<detail::graph> g,
                                     size_t node, operator_start how) {
  return sys.spawn(operator_supervisor, std::move(g), node, how);
}

} // namespace sluice
