#pragma once

// One node's run of a job (docs/cluster.md): node.cpp follows the job on every node,
// node_leader.cpp is the part only the leader (the node of slot 0) plays.

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/scoped_actor.hpp>

#include "sluice/actors/checkpoint_coordinator.hpp"
#include "sluice/actors/pipeline_supervisor.hpp"
#include "sluice/cluster/membership.hpp"
#include "sluice/cluster/node_agent.hpp"
#include "sluice/cluster/node_config.hpp"
#include "sluice/cluster/node_links.hpp"
#include "sluice/detail/graph.hpp"
#include "sluice/detail/job_plan.hpp"
#include "sluice/pipeline.hpp"

namespace sluice::cluster {

using view_atom = caf::atom_constant<caf::atom("view")>;
using fenced_atom = caf::atom_constant<caf::atom("fenced")>;

/// How long the leader waits for every node to spawn and wire its instances, and for every
/// node to end its part once told to.
constexpr auto phase_timeout = std::chrono::seconds(30);
/// How often the node looks at its job's outcome and retries links that failed.
constexpr auto tick = std::chrono::milliseconds(100);

/// Writes `line` to standard error as node `node`'s.
void log_as(const std::string& node, const std::string& line);

/// One node's run of a job: forms the cluster, starts the job with the others and follows it
/// to its end. Everything happens on the calling thread, which receives on `self`: views from
/// the membership, and through the agent the other nodes' hellos and the job's messages.
class node_run {
public:
  node_run(pipeline& p, runtime_config config, bool batch_mode, node_config& settings,
           caf::actor_system& system)
    : pipeline_(p),
      graph_(detail::pipeline_access::graph_of(p)),
      config_(std::move(config)),
      batch_mode_(batch_mode),
      settings_(settings),
      system_(system),
      self_(system) {}

  caf::error run();

private:
  void log(const std::string& line) const { log_as(me(), line); }

  [[nodiscard]] const std::string& me() const noexcept { return settings_.node; }
  [[nodiscard]] bool leading() const { return !leader_.empty() && leader_ == me(); }
  node_agent_actor agent_of(const std::string& node) const {
    return node == me() ? agent_ : peers_.at(node);
  }

  caf::error join();
  caf::error create_topics(const membership_options& options);
  void form();
  void lead();
  void link(const std::map<std::string, std::string>& addresses);
  void deploy(const deploy_msg& msg);
  void spawn_when_linked();
  void collect(spawned_msg& msg);
  void wire(const wire_msg& msg);
  void on_report(const node_report_msg& msg);
  void on_command(const job_command_msg& msg);
  void adopt(uint32_t number, const caf::strong_actor_ptr& handle, uint32_t incarnation);
  void report(node_report kind, caf::error error = {});
  void broadcast(const job_command_msg& msg);
  void fail(caf::error error);
  void on_lost(const caf::down_msg& msg);
  void on_tick();
  void check_start_deadline();

  pipeline& pipeline_;
  detail::graph& graph_;
  runtime_config config_;
  bool batch_mode_;
  node_config& settings_;
  caf::actor_system& system_;
  caf::scoped_actor self_;
  std::string identity_;
  node_agent_actor agent_;
  std::unique_ptr<node_links> links_;

  /// The latest view, written by the membership's thread.
  mutable std::mutex view_mutex_;
  cluster_view view_;
  std::optional<std::string> fenced_;

  /// The other nodes' agents, by name.
  std::map<std::string, node_agent_actor> peers_;

  /// The job, once deployed; its deployment until this node is linked to every node of it.
  std::optional<deploy_msg> pending_deploy_;
  uint64_t epoch_ = 0;
  std::string leader_;
  std::vector<std::string> slot_nodes_;
  std::set<std::string> job_nodes_;
  std::shared_ptr<job_outcome> outcome_;
  caf::actor supervisor_;
  /// Set once this node reported its own failure, and once the leader ended the job.
  bool reported_failure_ = false;
  std::optional<caf::error> end_;
  bool reported_end_ = false;
  /// A failure before the job was deployed: the run ends with it.
  std::optional<caf::error> early_failure_;

  /// The leader's view of the start and the end, once it sent the deployment.
  bool led_ = false;
  detail::job_start start_;
  std::map<std::string, spawned_msg> spawned_;
  /// The checkpoint coordinator it runs (its pipeline supervisor stops it once it runs).
  coordinator_actor coordinator_;
  std::set<std::string> wired_, sinks_done_, ended_;
  std::chrono::steady_clock::time_point phase_deadline_;

  /// Declared last, so destroyed first: its thread writes the view until it stops.
  std::unique_ptr<membership> membership_;
};

} // namespace sluice::cluster
