#include "sluice/cluster/node.hpp"

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <string>

#include <xxhash.h>

#include "sluice/error.hpp"
#include "sluice/operators/kafka_admin.hpp"
#include "sluice/runtime.hpp"

#include "node_run.hpp"
#include "placement.hpp"

namespace sluice::cluster {

namespace {

/// The identity of a resolved graph, which every node of a cluster must share: the pipeline's
/// name and a hash of its operators (names, parallelism, record types) and edges.
std::string graph_identity(const std::string& pipeline, const detail::graph& g,
                           uint32_t max_parallelism) {
  auto manifest = detail::manifest_of(g, max_parallelism);
  std::string text = std::to_string(manifest.max_parallelism) + "\n";
  for (const auto& op : manifest.operators)
    text += op.name + "|" + std::to_string(op.parallelism) + "|" + op.record_types + "\n";
  for (const auto& e : manifest.edges)
    text += e.from + ">" + e.to + "|" + e.partitioning + "\n";
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx",
                static_cast<unsigned long long>(XXH64(text.data(), text.size(), 0)));
  return pipeline + "@" + hex;
}

} // namespace

void log_as(const std::string& node, const std::string& line) {
  std::cerr << "sluice node " << node << ": " << line << std::endl;
}

caf::error node_run::join() {
  identity_ = graph_identity(pipeline_.name(), graph_, config_.max_parallelism);
  agent_ = spawn_node_agent(system_, me(), identity_, caf::actor_cast<caf::actor>(self_.ptr()),
                            // The agent may outlive this run until the actor system stops.
                            [node = me()](const std::string& line) { log_as(node, line); });
  try {
    links_ = std::make_unique<node_links>(system_, settings_, agent_, identity_);
    membership_options options;
    options.kafka = {{"bootstrap.servers", settings_.brokers}};
    options.group = "sluice." + pipeline_.name();
    options.node = me();
    options.address = links_->address();
    options.slots_topic = pipeline_.name() + ".slots";
    options.members_topic = pipeline_.name() + ".members";
    options.session_timeout =
      std::chrono::duration_cast<std::chrono::milliseconds>(settings_.session_timeout);
    auto inbox = caf::actor_cast<caf::actor>(self_.ptr());
    membership_events events;
    events.view_changed = [this, inbox](const cluster_view& view) {
      {
        std::lock_guard guard{view_mutex_};
        view_ = view;
      }
      caf::anon_send(inbox, view_atom::value);
    };
    events.failed = [this, inbox](const std::string& why) {
      {
        std::lock_guard guard{view_mutex_};
        fenced_ = why;
      }
      caf::anon_send(inbox, fenced_atom::value);
    };
    if (auto err = create_topics(options))
      return err;
    membership_ = std::make_unique<membership>(std::move(options), std::move(events));
  } catch (const failure& e) {
    return make_error(e.code(), "node '" + me() + "' cannot join its cluster: " + e.what(),
                      e.subject());
  } catch (const std::exception& e) {
    return make_error(errc::configuration,
                      "node '" + me() + "' cannot join its cluster: " + e.what());
  }
  log("joined the cluster of pipeline '" + pipeline_.name() + "' at " + links_->address()
      + ", graph " + identity_);
  return {};
}

/// Creates the pipeline's slots and members topics unless the brokers have them: as many slots
/// as `sluice.slots` says, by default as the pipeline's highest parallelism (instance i of an
/// operator runs in slot i mod the slot count, so more slots than that would run nothing).
caf::error node_run::create_topics(const membership_options& options) {
  uint32_t parallelism = 1;
  for (const auto& node : graph_.nodes)
    parallelism = std::max(parallelism, node->effective_parallelism);
  auto wanted = settings_.slots > 0 ? settings_.slots : parallelism;
  auto partitions =
    kafka::ensure_topics(options.kafka,
                         {{options.slots_topic, static_cast<int32_t>(wanted), {}},
                          {options.members_topic, 1, {{"cleanup.policy", "compact"}}}},
                         phase_timeout);
  auto slots = static_cast<uint32_t>(partitions.front());
  if (settings_.slots > 0 && slots != settings_.slots)
    return make_error(errc::configuration,
                      "node '" + me() + "': sluice.slots is " + std::to_string(settings_.slots)
                        + ", but topic '" + options.slots_topic + "' has "
                        + std::to_string(slots)
                        + " partitions (its partitions are the slots: leave sluice.slots unset, "
                          "or make it the topic's)",
                      "sluice.slots");
  if (slots < 2 * settings_.min_nodes)
    log("has " + std::to_string(slots) + " slots for " + std::to_string(settings_.min_nodes)
        + " nodes or more: give topic '" + options.slots_topic
        + "' at least two partitions per node (librdkafka 2.0.2's assignor misbehaves with "
          "fewer)");
  return {};
}

/// While the job is not deployed: links to the nodes of the view whose names sort after this
/// one's (the others link to this one: CAF keeps one connection per pair of nodes), and leads
/// the start once the cluster formed.
void node_run::form() {
  if (epoch_ != 0 || led_)
    return;
  cluster_view view;
  {
    std::lock_guard guard{view_mutex_};
    view = view_;
  }
  link(view.addresses);
  std::set<std::string> nodes;
  for (const auto& [slot, node] : view.slot_nodes)
    nodes.insert(node);
  bool complete = view.slot_count > 0
                  && view.slot_nodes.size() == static_cast<size_t>(view.slot_count)
                  && nodes.size() >= settings_.min_nodes;
  for (const auto& node : nodes)
    complete = complete && (node == me() || peers_.count(node) > 0);
  if (!complete)
    return;
  auto placement = place_slots(view.slot_count, nodes);
  if (placement.at(0) != me())
    return;
  slot_nodes_ = std::move(placement);
  lead();
}

/// Links to the nodes of `addresses` whose names sort after this one's, unless linked already
/// (the others link to this one: CAF keeps one connection per pair of nodes).
void node_run::link(const std::map<std::string, std::string>& addresses) {
  for (const auto& [name, address] : addresses) {
    if (name <= me() || peers_.count(name) > 0)
      continue;
    auto agent = links_->connect(name, address);
    if (agent)
      peers_.emplace(name, *agent);
    else
      log(system_.render(agent.error()) + "; retrying");
  }
}

/// Spawns the instances of this node's slots and tells the leader their handles.
void node_run::deploy(const deploy_msg& msg) {
  if (epoch_ != 0) {
    log("ignores a second start of the job, by node '" + msg.leader + "'");
    return;
  }
  epoch_ = msg.epoch;
  leader_ = msg.leader;
  slot_nodes_ = msg.slot_nodes;
  job_nodes_ = {slot_nodes_.begin(), slot_nodes_.end()};
  pending_deploy_ = msg;
  spawn_when_linked();
}

/// Spawns this node's instances once it is linked to every node of the job (records between
/// two nodes must not take a detour through a third), and tells the leader their handles.
void node_run::spawn_when_linked() {
  if (!pending_deploy_)
    return;
  std::map<std::string, std::string> addresses;
  {
    std::lock_guard guard{view_mutex_};
    addresses = view_.addresses;
  }
  link(addresses);
  for (const auto& node : job_nodes_)
    if (node != me() && peers_.count(node) == 0)
      return; // a node with a smaller name has not linked yet: its hello calls again
  auto msg = std::move(*pending_deploy_);
  pending_deploy_.reset();
  for (const auto& node : job_nodes_)
    if (node != me())
      self_->monitor(agent_of(node));
  std::optional<uint64_t> restore_to;
  if (msg.restores)
    restore_to = msg.restore_to;
  std::vector<bool> placed_here;
  for (const auto& node : graph_.nodes)
    for (uint32_t i = 0; i < node->effective_parallelism; ++i)
      placed_here.push_back(slot_nodes_[i % slot_nodes_.size()] == me());
  if (auto err = claim_placement(graph_, pipeline_.name(), config_, me(), leader_, placed_here,
                                 restore_to.value_or(0)))
    return fail(std::move(err));
  if (auto err = detail::prepare_state(graph_, pipeline_.name(), config_, restore_to))
    return fail(std::move(err));
  bool checkpoints = config_.checkpoint_interval.count() > 0;
  graph_.job =
    detail::job_settings{&system_,
                         config_,
                         pipeline_.name(),
                         batch_mode_,
                         restore_to,
                         {},
                         checkpoints && config_.state == state_backend::lmdb && config_.recovery,
                         detail::plan_channels(graph_),
                         std::make_shared<detail::retention_gate>(),
                         placed_here,
                         caf::actor_cast<caf::actor>(self_.ptr())};
  spawned_msg spawned{epoch_, me(), {}, {}};
  std::lock_guard guard{graph_.mutex};
  for (size_t id = 0; id < graph_.nodes.size(); ++id) {
    auto& node = *graph_.nodes[id];
    node.spawn(graph_, id);
    auto controls = node.control_handles();
    for (uint32_t i = 0; i < controls.size(); ++i)
      if (graph_.job.runs_here(node.first_instance_number + i)) {
        spawned.numbers.push_back(node.first_instance_number + i);
        spawned.handles.push_back(caf::actor_cast<caf::strong_actor_ptr>(controls[i]));
      }
  }
  self_->send(agent_of(leader_), std::move(spawned));
}

/// Instance `number` runs on another node as `handle`.
void node_run::adopt(uint32_t number, const caf::strong_actor_ptr& handle, uint32_t incarnation) {
  std::lock_guard guard{graph_.mutex};
  for (auto& node : graph_.nodes)
    if (number >= node->first_instance_number
        && number < node->first_instance_number + node->effective_parallelism) {
      node->adopt(number - node->first_instance_number, handle, incarnation);
      return;
    }
}

/// Wires this node's instances to every other, and reports them ready.
void node_run::wire(const wire_msg& msg) {
  if (msg.epoch != epoch_ || end_)
    return;
  for (uint32_t number = 0; number < msg.handles.size(); ++number)
    if (!graph_.job.runs_here(number))
      adopt(number, msg.handles[number], 0);
  {
    std::lock_guard guard{graph_.mutex};
    graph_.job.coordinator = caf::actor_cast<coordinator_actor>(msg.coordinator);
    for (size_t id = 0; id < graph_.nodes.size(); ++id)
      graph_.nodes[id]->wire(graph_, id);
  }
  outcome_ = std::make_shared<job_outcome>();
  supervisor_ = spawn_pipeline_supervisor(
    system_, detail::pipeline_access::shared_graph_of(pipeline_), outcome_);
  report(node_report::wired);
}

void node_run::report(node_report kind, caf::error error) {
  self_->send(agent_of(leader_), node_report_msg{epoch_, me(), kind, std::move(error)});
}

void node_run::broadcast(const job_command_msg& msg) {
  for (const auto& node : job_nodes_)
    self_->send(agent_of(node), msg);
}

void node_run::on_command(const job_command_msg& msg) {
  if (msg.epoch != epoch_)
    return;
  if (msg.command == job_command::go) {
    std::vector<control_actor> local;
    {
      std::lock_guard guard{graph_.mutex};
      for (const auto& node : graph_.nodes) {
        auto controls = node->control_handles();
        for (uint32_t i = 0; i < controls.size(); ++i)
          if (graph_.job.runs_here(node->first_instance_number + i))
            local.push_back(controls[i]);
      }
    }
    for (const auto& instance : local)
      self_->send(instance, start_atom::value);
    log("runs " + std::to_string(local.size()) + " instances of job " + std::to_string(epoch_)
        + ", led by node '" + leader_ + "'");
    return;
  }
  if (end_)
    return;
  end_ = msg.error;
  if (!supervisor_) {
    // Ended before the instances were wired: nothing supervises them yet.
    std::lock_guard guard{graph_.mutex};
    for (const auto& node : graph_.nodes)
      for (const auto& instance : node->actors())
        if (instance)
          self_->send_exit(instance, caf::exit_reason::user_shutdown);
    if (coordinator_)
      self_->send_exit(coordinator_, caf::exit_reason::user_shutdown);
    return;
  }
  if (msg.error)
    self_->send_exit(supervisor_, caf::exit_reason::user_shutdown);
  else
    self_->send(supervisor_, job_done_atom::value);
}

/// This node's part failed: the leader ends the job on every node (before it is deployed,
/// the run ends at once).
void node_run::fail(caf::error error) {
  if (epoch_ == 0 || leader_.empty()) {
    if (!early_failure_)
      early_failure_ = std::move(error);
    return;
  }
  if (reported_failure_)
    return;
  reported_failure_ = true;
  report(node_report::failed, std::move(error));
}

/// A node of the job is gone (BASP lost its connection): its instances are lost with it. Until
/// lost nodes are recovered from their checkpoints (issue #20), the job fails, naming the node.
void node_run::on_lost(const caf::down_msg& msg) {
  std::string lost;
  for (const auto& node : job_nodes_)
    if (node != me() && agent_of(node).address() == msg.source)
      lost = node;
  if (lost.empty() || end_)
    return;
  auto error =
    make_error(errc::node_lost,
               "node '" + lost + "' of the cluster was lost: " + system_.render(msg.reason), lost);
  log(system_.render(error));
  if (leading()) {
    ended_.insert(lost);
    broadcast({epoch_, job_command::end, error});
  } else if (lost == leader_) {
    on_command({epoch_, job_command::end, error}); // nobody leads the end: this node ends alone
  } else {
    fail(error);
  }
}

void node_run::on_tick() {
  if (epoch_ == 0)
    return form();
  spawn_when_linked();
  if (outcome_) {
    std::optional<caf::error> result;
    {
      std::lock_guard guard{outcome_->mutex};
      result = outcome_->result;
    }
    if (result && !end_ && *result)
      fail(*result);
    if (result && end_ && !reported_end_) {
      reported_end_ = true;
      report(node_report::ended);
    }
  } else if (end_ && !reported_end_) {
    reported_end_ = true;
    report(node_report::ended);
  }
  if (leading())
    check_start_deadline();
}

caf::error node_run::run() {
  if (auto err = join())
    return err;
  for (;;) {
    if (early_failure_)
      return *early_failure_;
    if (reported_end_
        && (!leading() || ended_.size() == job_nodes_.size()
            || std::chrono::steady_clock::now() > phase_deadline_))
      break;
    self_->receive(
      [&](view_atom) { form(); },
      [&](fenced_atom) {
        std::lock_guard guard{view_mutex_};
        auto why = fenced_.value_or("the membership failed");
        fail(make_error(errc::kafka, "node '" + me() + "' lost its membership: " + why));
      },
      [&](hello_atom, const std::string& node, caf::strong_actor_ptr& agent) {
        peers_[node] = caf::actor_cast<node_agent_actor>(agent);
        form();
        spawn_when_linked();
      },
      [&](deploy_msg& msg) { deploy(msg); }, [&](spawned_msg& msg) { collect(msg); },
      [&](wire_msg& msg) { wire(msg); }, [&](node_report_msg& msg) { on_report(msg); },
      [&](job_command_msg& msg) { on_command(msg); },
      [&](instance_moved_msg& msg) {
        if (msg.epoch == epoch_)
          adopt(msg.instance, msg.handle, msg.incarnation);
      },
      [&](instance_replaced_msg& msg) {
        instance_moved_msg moved{epoch_, msg.instance,
                                 caf::actor_cast<caf::strong_actor_ptr>(msg.handle),
                                 msg.incarnation};
        for (const auto& node : job_nodes_)
          if (node != me())
            self_->send(agent_of(node), moved);
      },
      [&](sinks_done_atom) { report(node_report::sinks_done); },
      [&](caf::down_msg& msg) { on_lost(msg); }, caf::after(tick) >> [&] { on_tick(); });
  }
  caf::error result = end_ && *end_ ? *end_ : caf::error{};
  if (!result && outcome_) {
    std::lock_guard guard{outcome_->mutex};
    result = outcome_->result.value_or(caf::error{});
  }
  if (!result) {
    try {
      membership_->leave();
    } catch (const std::exception& e) {
      log(std::string{"could not leave the cluster: "} + e.what());
    }
  }
  return result;
}

caf::error run_node(pipeline& p, int argc, char** argv, runtime_config config,
                    const environment& env) {
  auto& g = detail::pipeline_access::graph_of(p);
  auto batch_mode = detail::resolve_graph(g, p.name(), config);
  if (!batch_mode)
    return std::move(batch_mode.error());
  if (g.dead_letters)
    return detail::invalid_pipeline(p.name(), "dead letters are not supported on a cluster yet");
  node_config settings;
  configure_actor_system(settings, config);
  register_job_messages(settings);
  for (const auto& node : g.nodes)
    node->register_record_types(settings);
  if (auto err = settings.read(argc, argv, env))
    return err;
  if (settings.cli_helptext_printed)
    return {};
  config.state_dir = settings.state_dir;
  caf::actor_system system{settings};
  node_run run{p, std::move(config), *batch_mode, settings, system};
  return run.run();
}

} // namespace sluice::cluster
