#include <chrono>
#include <set>
#include <string>
#include <vector>

#include "sluice/error.hpp"

#include "node_run.hpp"

namespace sluice::cluster {

/// This node runs slot 0: it leads the job's start.
void node_run::lead() {
  auto start = detail::read_job_start(pipeline_.name(), config_);
  if (!start)
    return fail(std::move(start.error()));
  start_ = std::move(*start);
  led_ = true;
  deploy_msg msg;
  msg.epoch = static_cast<uint64_t>(std::chrono::system_clock::now().time_since_epoch().count());
  msg.leader = me();
  msg.slot_nodes = slot_nodes_;
  msg.restores = start_.restore_to.has_value();
  msg.restore_to = start_.restore_to.value_or(0);
  std::set<std::string> nodes{slot_nodes_.begin(), slot_nodes_.end()};
  log("leads job " + std::to_string(msg.epoch) + " on " + std::to_string(nodes.size())
      + " nodes over " + std::to_string(slot_nodes_.size()) + " slots");
  phase_deadline_ = std::chrono::steady_clock::now() + phase_timeout;
  for (const auto& node : nodes)
    self_->send(agent_of(node), msg);
}

/// The leader: once every node spawned its instances, starts the checkpoint coordinator and
/// tells every node where every instance is.
void node_run::collect(spawned_msg& msg) {
  if (!leading() || msg.epoch != epoch_)
    return;
  spawned_.emplace(msg.node, std::move(msg));
  if (spawned_.size() < job_nodes_.size())
    return;
  uint32_t instances = 0;
  for (const auto& node : graph_.nodes)
    instances += node->effective_parallelism;
  wire_msg wire{epoch_, std::vector<caf::strong_actor_ptr>(instances), nullptr};
  for (const auto& [node, s] : spawned_)
    for (size_t k = 0; k < s.numbers.size(); ++k)
      wire.handles.at(s.numbers[k]) = s.handles[k];
  for (uint32_t number = 0; number < instances; ++number)
    if (!graph_.job.runs_here(number))
      adopt(number, wire.handles[number], 0);
  if (config_.checkpoint_interval.count() > 0) {
    coordinator_config cc;
    cc.interval = config_.checkpoint_interval;
    cc.record_path = detail::checkpoint_record_path(pipeline_.name(), config_);
    cc.record = start_.record;
    {
      std::lock_guard guard{graph_.mutex};
      detail::add_checkpoint_participants(graph_, cc);
    }
    coordinator_ = spawn_checkpoint_coordinator(system_, std::move(cc));
    wire.coordinator = caf::actor_cast<caf::strong_actor_ptr>(coordinator_);
  }
  for (const auto& node : job_nodes_)
    self_->send(agent_of(node), wire);
}

/// The leader follows every node's part: starts the job once all are wired, and ends it once
/// every node's sinks finished or a node failed.
void node_run::on_report(const node_report_msg& msg) {
  if (!leading() || msg.epoch != epoch_)
    return;
  switch (msg.report) {
    case node_report::wired:
      wired_.insert(msg.node);
      if (wired_.size() == job_nodes_.size())
        broadcast({epoch_, job_command::go, {}});
      break;
    case node_report::sinks_done:
      sinks_done_.insert(msg.node);
      if (sinks_done_.size() == job_nodes_.size() && !end_)
        broadcast({epoch_, job_command::end, {}});
      break;
    case node_report::failed:
      log("node '" + msg.node + "' failed: " + system_.render(msg.error));
      if (!end_)
        broadcast({epoch_, job_command::end, msg.error});
      break;
    case node_report::ended:
      ended_.insert(msg.node);
      break;
  }
  if (msg.report == node_report::failed || msg.report == node_report::sinks_done)
    phase_deadline_ = std::chrono::steady_clock::now() + phase_timeout;
}

/// The leader ends the job if a node did not start its part within the phase timeout.
void node_run::check_start_deadline() {
  if (end_ || wired_.size() == job_nodes_.size()
      || std::chrono::steady_clock::now() <= phase_deadline_)
    return;
  for (const auto& node : job_nodes_)
    if (wired_.count(node) == 0) {
      broadcast(
        {epoch_, job_command::end,
         make_error(errc::configuration,
                    "node '" + node + "' did not start its part of the job in time", node)});
      return;
    }
}

} // namespace sluice::cluster
