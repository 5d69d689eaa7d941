#include "sluice/actors/pipeline_supervisor.hpp"

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include <caf/event_based_actor.hpp>
#include <caf/exit_reason.hpp>
#include <caf/stateful_actor.hpp>

#include "sluice/actors/operator_supervisor.hpp"
#include "sluice/actors/restart_budget.hpp"
#include "sluice/error.hpp"

namespace sluice {

void job_outcome::set(caf::error err) {
  {
    std::lock_guard<std::mutex> guard{mutex};
    if (result)
      return;
    result = std::move(err);
  }
  done.notify_all();
}

namespace {

using restart_atom = caf::atom_constant<caf::atom("restart")>;

struct supervisor_state {
  std::shared_ptr<detail::graph> graph;
  std::shared_ptr<job_outcome> outcome;
  /// Per operator: its live supervisor (null while none runs), and whether it finished.
  std::vector<caf::actor> children;
  std::vector<bool> finished;
  /// Operators to restart once their supervisors are down.
  std::set<size_t> pending;
  bool restart_scheduled = false;
  std::chrono::milliseconds delay{0};
  operator_start restart_how = operator_start::restart_replaying;
  std::unique_ptr<restart_budget> budget;
  /// The job's result, once it is ending.
  std::optional<caf::error> result;
  static inline const char* name = "sluice.pipeline_supervisor";
};

using supervisor = caf::stateful_actor<supervisor_state>;

bool none_live(supervisor* self) {
  for (const auto& a : self->state.children)
    if (a)
      return false;
  return true;
}

/// True if the job's checkpoint coordinator runs in this process.
bool coordinator_here(supervisor* self) {
  const auto& coordinator = self->state.graph->job.coordinator;
  return coordinator && coordinator->node() == self->node();
}

/// Everything is down: the coordinator goes last, then the outcome is known.
void finish(supervisor* self) {
  auto& st = self->state;
  if (coordinator_here(self))
    self->send_exit(st.graph->job.coordinator, caf::exit_reason::user_shutdown);
  st.outcome->set(st.result.value_or(caf::error{}));
  self->quit();
}

/// Ends the job with `result`: stops every operator supervisor, which stop their instances.
void end_job(supervisor* self, caf::error result) {
  auto& st = self->state;
  if (!st.result)
    st.result = std::move(result);
  for (const auto& a : st.children)
    if (a)
      self->send_exit(a, caf::exit_reason::user_shutdown);
  st.pending.clear();
  if (none_live(self))
    finish(self);
}

/// The operators that restart with `node` under the pipeline's strategy: it alone, it and
/// everything downstream of it, or all.
std::set<size_t> restart_set(supervisor* self, size_t node) {
  const auto& g = *self->state.graph;
  std::set<size_t> set{node};
  switch (g.supervise.strategy) {
    case restart_strategy::one_for_one:
      break;
    case restart_strategy::one_for_all:
      for (size_t n = 0; n < g.nodes.size(); ++n)
        set.insert(n);
      break;
    case restart_strategy::rest_for_one:
      for (bool grew = true; grew;) {
        grew = false;
        for (const auto& e : g.edges)
          if (set.count(e.from) > 0 && set.insert(e.to).second)
            grew = true;
      }
      break;
  }
  return set;
}

void schedule_restart(supervisor* self) {
  auto& st = self->state;
  if (st.restart_scheduled || st.pending.empty())
    return;
  for (auto node : st.pending)
    if (st.children[node])
      return; // its down message schedules
  st.restart_scheduled = true;
  self->delayed_send(self, st.delay, restart_atom::value);
}

void restart_pending(supervisor* self) {
  auto& st = self->state;
  st.restart_scheduled = false;
  if (st.result)
    return;
  for (auto node : std::exchange(st.pending, {})) {
    st.children[node] = spawn_operator_supervisor(self->system(), st.graph, node, st.restart_how);
    self->monitor(st.children[node]);
  }
}

void on_failure(supervisor* self, size_t node, const caf::error& reason) {
  auto& st = self->state;
  const auto& g = *st.graph;
  // Across nodes an operator restarts instance by instance only (its own supervisor's
  // restarts): a whole operator or region restarting together is not built for clusters.
  if (g.supervise.intensity.max_restarts == 0 || !g.recovers() || g.job.cluster_observer)
    return end_job(self, reason);
  if (!st.budget->take())
    return end_job(self,
                   make_gave_up("pipeline '" + g.job.pipeline + "' gave up after more than "
                                  + st.budget->limit() + "; last failure: " + describe(reason),
                                reason));
  st.delay = st.budget->delay();
  st.restart_how = g.supervise.strategy == restart_strategy::one_for_one
                     ? operator_start::restart_replaying
                     : operator_start::restart_afresh;
  for (auto n : restart_set(self, node)) {
    st.pending.insert(n);
    st.finished[n] = false;
    if (st.children[n])
      self->send_exit(st.children[n], make_error(errc::cancelled, "restarting the operator"));
  }
  schedule_restart(self);
}

/// True once every sink operator finished: the job's output is complete.
bool sinks_finished(supervisor* self) {
  const auto& g = *self->state.graph;
  for (size_t n = 0; n < g.nodes.size(); ++n)
    if (g.nodes[n]->is_sink && !self->state.finished[n])
      return false;
  return true;
}

/// The sinks of this process finished: the job is done, or in a cluster this node's part.
void on_sinks_finished(supervisor* self) {
  const auto& observer = self->state.graph->job.cluster_observer;
  if (observer)
    self->send(observer, sinks_done_atom::value);
  else
    end_job(self, caf::error{});
}

void on_down(supervisor* self, caf::down_msg& msg) {
  auto& st = self->state;
  if (msg.source == st.graph->job.coordinator.address()) {
    // Without its coordinator the job can neither checkpoint nor recover.
    if (!st.result)
      end_job(self, msg.reason ? msg.reason
                               : make_error(errc::protocol, "the checkpoint coordinator stopped"));
    return;
  }
  size_t node = 0;
  while (node < st.children.size() && st.children[node].address() != msg.source)
    ++node;
  if (node == st.children.size())
    return;
  st.children[node] = nullptr;
  if (st.result) {
    if (none_live(self))
      finish(self);
    return;
  }
  if (st.pending.count(node) > 0)
    return schedule_restart(self);
  if (!msg.reason) {
    st.finished[node] = true;
    if (sinks_finished(self))
      on_sinks_finished(self);
    return;
  }
  on_failure(self, node, msg.reason);
}

caf::behavior pipeline_supervisor(supervisor* self, std::shared_ptr<detail::graph> g,
                                  std::shared_ptr<job_outcome> outcome) {
  auto& st = self->state;
  st.graph = std::move(g);
  st.outcome = std::move(outcome);
  st.budget = std::make_unique<restart_budget>(st.graph->supervise);
  st.finished.assign(st.graph->nodes.size(), false);
  self->set_down_handler([self](caf::down_msg& msg) { on_down(self, msg); });
  self->set_exit_handler([self](caf::exit_msg& msg) {
    end_job(self, make_error(errc::cancelled, "job cancelled: " + describe(msg.reason)));
  });
  if (coordinator_here(self))
    self->monitor(st.graph->job.coordinator);
  for (size_t n = 0; n < st.graph->nodes.size(); ++n) {
    auto local = st.graph->nodes[n]->actors();
    if (std::none_of(local.begin(), local.end(), [](const auto& a) { return a != nullptr; })) {
      st.children.emplace_back(); // all its instances run on other nodes
      st.finished[n] = true;
      continue;
    }
    st.children.push_back(
      spawn_operator_supervisor(self->system(), st.graph, n, operator_start::adopt));
    self->monitor(st.children.back());
  }
  if (st.graph->job.cluster_observer && sinks_finished(self))
    self->send(st.graph->job.cluster_observer, sinks_done_atom::value);
  return {[self](restart_atom) { restart_pending(self); },
          [self](job_done_atom) { end_job(self, caf::error{}); }};
}

} // namespace

caf::actor spawn_pipeline_supervisor(caf::actor_system& sys, std::shared_ptr<detail::graph> g,
                                     std::shared_ptr<job_outcome> outcome) {
  return sys.spawn(pipeline_supervisor, std::move(g), std::move(outcome));
}

} // namespace sluice
