#pragma once

// What the nodes of a cluster say to each other to run a job together (docs/cluster.md,
// "Running a job"). Each goes to a node's agent, which hands it to the node.

#include <cstdint>
#include <string>
#include <vector>

#include <caf/actor_control_block.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/error.hpp>
#include <caf/meta/type_name.hpp>

namespace sluice::cluster {

/// Leader → every node: run job `epoch`, with slot s on node `slot_nodes[s]` (instance i of
/// every operator runs in slot i mod the slot count), restoring to checkpoint `restore_to`
/// if `restores`.
struct deploy_msg {
  uint64_t epoch = 0;
  std::string leader;
  std::vector<std::string> slot_nodes;
  bool restores = false;
  uint64_t restore_to = 0;
};

/// Node → leader: the instances node `node` spawned, by job-wide number.
struct spawned_msg {
  uint64_t epoch = 0;
  std::string node;
  std::vector<uint32_t> numbers;
  std::vector<caf::strong_actor_ptr> handles;
};

/// Leader → every node: every instance's handle by job-wide number, and the checkpoint
/// coordinator (null when the job takes no checkpoints).
struct wire_msg {
  uint64_t epoch = 0;
  std::vector<caf::strong_actor_ptr> handles;
  caf::strong_actor_ptr coordinator;
};

/// What a node reports to the leader.
enum class node_report : uint8_t {
  wired,      ///< its instances are wired and wait for `go`
  sinks_done, ///< its sink instances finished
  failed,     ///< its part of the job failed (`error` says why)
  ended,      ///< its part of the job ended after `end`
};

struct node_report_msg {
  uint64_t epoch = 0;
  std::string node;
  node_report report = node_report::wired;
  caf::error error;
};

/// What the leader tells every node.
enum class job_command : uint8_t {
  go,  ///< start the instances
  end, ///< end the job (with `error`, or done)
};

struct job_command_msg {
  uint64_t epoch = 0;
  job_command command = job_command::go;
  caf::error error;
};

/// Node → every other node: instance `instance` (job-wide number) restarted as `handle`, in
/// its incarnation `incarnation`.
struct instance_moved_msg {
  uint64_t epoch = 0;
  uint32_t instance = 0;
  caf::strong_actor_ptr handle;
  uint32_t incarnation = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, deploy_msg& x) {
  return f(caf::meta::type_name("sluice.cluster.deploy"), x.epoch, x.leader, x.slot_nodes,
           x.restores, x.restore_to);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, spawned_msg& x) {
  return f(caf::meta::type_name("sluice.cluster.spawned"), x.epoch, x.node, x.numbers, x.handles);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, wire_msg& x) {
  return f(caf::meta::type_name("sluice.cluster.wire"), x.epoch, x.handles, x.coordinator);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, node_report_msg& x) {
  return f(caf::meta::type_name("sluice.cluster.report"), x.epoch, x.node, x.report, x.error);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, job_command_msg& x) {
  return f(caf::meta::type_name("sluice.cluster.command"), x.epoch, x.command, x.error);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, instance_moved_msg& x) {
  return f(caf::meta::type_name("sluice.cluster.moved"), x.epoch, x.instance, x.handle,
           x.incarnation);
}

/// Registers the messages above with CAF.
inline void register_job_messages(caf::actor_system_config& cfg) {
  cfg.add_message_type<deploy_msg>("sluice.cluster.deploy");
  cfg.add_message_type<spawned_msg>("sluice.cluster.spawned");
  cfg.add_message_type<wire_msg>("sluice.cluster.wire");
  cfg.add_message_type<node_report_msg>("sluice.cluster.report");
  cfg.add_message_type<job_command_msg>("sluice.cluster.command");
  cfg.add_message_type<instance_moved_msg>("sluice.cluster.moved");
}

} // namespace sluice::cluster
