#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <typeinfo>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/send.hpp>

#include <cxxabi.h>

#include "sluice/config.hpp"
#include "sluice/context.hpp"
#include "sluice/detail/wiring.hpp"
#include "sluice/interfaces.hpp"
#include "sluice/protocol.hpp"
#include "sluice/recovery_log.hpp"
#include "sluice/supervision.hpp"

namespace sluice::detail {

/// The name of type T as C++ spells it.
template <class T>
std::string type_name() {
  int status = 0;
  std::unique_ptr<char, void (*)(void*)> name{
    abi::__cxa_demangle(typeid(T).name(), nullptr, nullptr, &status), std::free};
  return status == 0 ? std::string{name.get()} : std::string{typeid(T).name()};
}

/// An edge of the logical graph: records of `from` flow to `to`.
struct edge {
  size_t from = 0;
  size_t to = 0;
  partitioning kind = partitioning::forward;
  /// The partitioning used when running: `kind`, or rebalance for an implicit forward between
  /// operators of different parallelism. Resolved anew at each start.
  partitioning effective = partitioning::forward;
  /// True when the user chose the partitioning (forward then requires equal parallelism).
  bool explicit_kind = false;
  /// For hash edges: a `std::function<uint64_t(const T&)>` hashing the key of a record.
  std::shared_ptr<const void> key_hash;
};

/// For every channel: its index at the downstream instance and at the upstream instance.
struct channel_plan {
  size_t edge = 0;
  uint32_t from_instance = 0;
  uint32_t to_instance = 0;
  channel_index input_index = 0; ///< at the downstream instance
  uint32_t output_index = 0;     ///< at the upstream instance
};

class graph;

/// How a new incarnation of an instance starts.
struct restart_plan {
  /// The completed checkpoint its state restores to.
  uint64_t restore_to = 0;
  /// Checkpoints after `restore_to` up to this one were abandoned (see recovery_wiring).
  uint64_t abandoned_through = 0;
  /// Replay the logged input order (the upstream resends what it sent), or not (it
  /// regenerates its output afresh as well).
  bool keep_order = true;
};

/// A node of the logical graph; knows how to spawn and wire its instances.
///
/// Once the job runs, the node keeps the handle and incarnation of each of its instances, which
/// change as supervisors restart them: read and change them only under the graph's mutex.
class node_base {
public:
  virtual ~node_base() = default;

  std::string name;
  std::optional<uint32_t> parallelism;
  bool is_source = false;
  bool is_sink = false;
  bool bounded = true;
  /// A source that ends after the job's other sources have (the dead letters): it takes part in
  /// checkpoints, but the job's final checkpoint does not wait for it.
  bool trails_other_sources = false;
  /// A source that, under `failure_policy::skip`, hands what it cannot decode to the dead
  /// letters (`Src::skips_undecodable_records`).
  bool skips_undecodable_records = false;
  /// How a failure of one of its instances is handled.
  supervision supervise;
  failure_policy on_failure = failure_policy::restart;
  /// Resolved when the pipeline starts.
  uint32_t effective_parallelism = 1;
  /// The job-wide number of its first instance (instances are numbered node by node).
  uint32_t first_instance_number = 0;

  /// A stage the pipeline added in front of an operator (its combiner, the wrapping of a
  /// two-input operator's input) or behind it (a window's results, apart from its late
  /// records; then `input == owner`): it runs at the parallelism of its input node and is named
  /// `<operator name>/<role>`.
  struct added_stage {
    size_t input = 0;
    size_t owner = 0;
    std::string role;
  };
  std::optional<added_stage> added;

  /// The record types in and out, as "In -> Out".
  [[nodiscard]] virtual std::string record_types() const = 0;

  /// Registers the messages that carry this operator's records with `cfg`, so that they can
  /// cross to another node.
  virtual void register_record_types(caf::actor_system_config& cfg) const = 0;

  /// Spawns the first incarnation of every instance; the node is `g.nodes[self_id]`.
  virtual void spawn(graph& g, size_t self_id) = 0;

  /// Sends each instance its wiring.
  virtual void wire(const graph& g, size_t self_id) = 0;

  /// Spawns, wires and starts a new incarnation of instance `index`; returns it.
  virtual caf::actor restart(const graph& g, size_t self_id, uint32_t index,
                             const restart_plan& plan, const std::string& last_failure) = 0;

  /// In a cluster: instance `index` runs on another node, as `handle` in its incarnation
  /// `incarnation`.
  virtual void adopt(uint32_t index, const caf::strong_actor_ptr& handle, uint32_t incarnation) = 0;

  /// How often instance `index` was restarted.
  [[nodiscard]] virtual uint32_t incarnation(uint32_t index) const = 0;

  /// Every instance's live incarnation, by index (null where none was spawned yet).
  [[nodiscard]] virtual std::vector<control_actor> control_handles() const = 0;
  /// The instances in this process, by index; null for those on other nodes.
  [[nodiscard]] virtual std::vector<caf::actor> actors() const = 0;
};

/// The instances of a node that accept records of type T.
template <class T>
class node_input {
public:
  virtual ~node_input() = default;
  [[nodiscard]] virtual input_actor<T> input_handle(uint32_t index) const = 0;
  [[nodiscard]] virtual uint32_t incarnation(uint32_t index) const = 0;
};

/// The instances of a node that emit records of type T.
template <class T>
class node_output {
public:
  virtual ~node_output() = default;
  [[nodiscard]] virtual output_actor<T> output_handle(uint32_t index) const = 0;
  [[nodiscard]] virtual uint32_t incarnation(uint32_t index) const = 0;
};

/// What every instance of a running job is spawned with.
struct job_settings {
  caf::actor_system* system = nullptr;
  runtime_config config;
  std::string pipeline;
  bool batch_mode = false;
  /// The checkpoint the job started from, if any.
  std::optional<uint64_t> restore_to;
  /// Null when the job takes no checkpoints.
  coordinator_actor coordinator;
  /// Failed instances can be restarted: the job takes checkpoints of LMDB state. Instances then
  /// log their input order and retain what they sent.
  bool recovery = false;
  std::vector<channel_plan> plan;
  /// With recovery: pauses the sources while an instance retains more than the limit.
  std::shared_ptr<retention_gate> retention;
  /// Which instances run in this process, by job-wide number; empty: all of them. A node of a
  /// cluster runs those of its slots.
  std::vector<bool> placed_here;
  /// In a cluster: told (`sinks_done_atom`) once this node's sink instances finished; the job
  /// then ends when the cluster's leader says so. Null in a single process.
  caf::actor cluster_observer;

  [[nodiscard]] bool runs_here(uint32_t number) const {
    return placed_here.empty() || placed_here[number];
  }
};

/// The logical graph of a pipeline: nodes in creation order and the edges between them.
class graph {
public:
  std::vector<std::unique_ptr<node_base>> nodes;
  std::vector<edge> edges;
  /// Misuse found while the pipeline was described, reported when it runs.
  std::vector<std::string> problems;
  /// How the pipeline's supervisor handles an operator that gave up.
  supervision supervise = supervision::pipeline_default();
  /// The dead letters of operators that skip failed records, and the node of the source that
  /// emits them; null while the pipeline has none.
  std::shared_ptr<dead_letter_store> dead_letters;
  std::optional<size_t> dead_letter_node;
  /// Set when a job starts; the job and its supervisors share the graph.
  job_settings job;
  /// Guards the instance handles of all nodes once the job runs.
  mutable std::mutex mutex;

  [[nodiscard]] bool recovers() const noexcept { return job.recovery; }
};

/// A node hosting instances of `Host` (an operator_host or source_host).
template <class Host, class In, class Out, class Op>
class host_node final : public node_base, public node_input<In>, public node_output<Out> {
public:
  explicit host_node(Op prototype) : prototype_(std::move(prototype)) {}

  std::string record_types() const override { return type_name<In>() + " -> " + type_name<Out>(); }

  void register_record_types(caf::actor_system_config& cfg) const override {
    register_type<In>(cfg);
    register_type<Out>(cfg);
  }

  void spawn(graph& g, size_t self_id) override {
    instances_.clear();
    incarnations_.assign(effective_parallelism, 0);
    logs_.clear();
    here_.clear();
    for (uint32_t i = 0; i < effective_parallelism; ++i) {
      here_.push_back(g.job.runs_here(first_instance_number + i));
      if (g.recovers())
        logs_.push_back(std::make_shared<recovery_log>(g.job.restore_to.value_or(0)));
      instances_.push_back(here_[i] ? spawn_incarnation(g, self_id, i, g.job.restore_to)
                                    : host_actor<In, Out>{});
    }
  }

  void wire(const graph& g, size_t self_id) override {
    for (uint32_t i = 0; i < effective_parallelism; ++i)
      if (here_[i])
        caf::anon_send(instances_[i], wiring_of(g, self_id, i, recovery_wiring{}));
  }

  void adopt(uint32_t index, const caf::strong_actor_ptr& handle, uint32_t incarnation) override {
    instances_.at(index) = caf::actor_cast<host_actor<In, Out>>(handle);
    incarnations_.at(index) = incarnation;
  }

  caf::actor restart(const graph& g, size_t self_id, uint32_t index, const restart_plan& plan,
                     const std::string& last_failure) override {
    ++incarnations_[index];
    instances_[index] = spawn_incarnation(g, self_id, index, plan.restore_to);
    recovery_wiring recovery{true, plan.keep_order, plan.abandoned_through, last_failure};
    auto w = wiring_of(g, self_id, index, std::move(recovery));
    caf::anon_send(instances_[index], std::move(w));
    caf::anon_send(instances_[index], start_atom::value);
    return caf::actor_cast<caf::actor>(instances_[index]);
  }

  std::vector<control_actor> control_handles() const override {
    return {instances_.begin(), instances_.end()};
  }

  std::vector<caf::actor> actors() const override {
    std::vector<caf::actor> result;
    for (uint32_t i = 0; i < instances_.size(); ++i)
      result.push_back(here_[i] ? caf::actor_cast<caf::actor>(instances_[i]) : nullptr);
    return result;
  }

  input_actor<In> input_handle(uint32_t index) const override { return instances_.at(index); }
  output_actor<Out> output_handle(uint32_t index) const override { return instances_.at(index); }
  uint32_t incarnation(uint32_t index) const override { return incarnations_.at(index); }

private:
  template <class T>
  static void register_type(caf::actor_system_config& cfg) {
    if constexpr (!std::is_same_v<T, no_input> && !std::is_same_v<T, no_output>)
      register_record_type<T>(cfg, type_name<T>());
  }

  host_actor<In, Out> spawn_incarnation(const graph& g, size_t self_id, uint32_t index,
                                        std::optional<uint64_t> restore_to) {
    const auto& job = g.job;
    instance_info info{job.pipeline,
                       name,
                       index,
                       effective_parallelism,
                       job.config.max_parallelism,
                       job.batch_mode,
                       restore_to,
                       incarnations_[index],
                       job.config.checkpoint_interval.count() > 0};
    return job.system->spawn<Host>(prototype_, std::move(info), job.config,
                                   services_of(g, self_id, index));
  }

  /// What instance `index` shares with the rest of the node (see instance_services).
  instance_services<Out> services_of(const graph& g, size_t self_id, uint32_t index) const {
    instance_services<Out> services;
    if (!logs_.empty()) {
      services.log = logs_[index];
      services.retention = g.job.retention;
    }
    if (on_failure == failure_policy::skip)
      services.dead_letters = g.dead_letters;
    if constexpr (!std::is_same_v<Out, no_output>) {
      for (const auto& ed : g.edges) {
        if (ed.from != self_id)
          continue;
        auto& hash = services.key_hashes.emplace_back();
        if (ed.key_hash)
          hash = *static_cast<const std::function<uint64_t(const Out&)>*>(ed.key_hash.get());
      }
    }
    return services;
  }

  /// The wiring of instance `index`, with the current handles of its neighbours.
  wiring<In, Out> wiring_of(const graph& g, size_t self_id, uint32_t index,
                            recovery_wiring recovery) const {
    wiring<In, Out> w;
    w.coordinator = g.job.coordinator;
    w.instance_number = first_instance_number + index;
    w.recovery = std::move(recovery);
    // Outputs: one edge_wiring per outgoing edge, targets in output-index order.
    if constexpr (!std::is_same_v<Out, no_output>) {
      for (size_t e = 0; e < g.edges.size(); ++e) {
        const auto& ed = g.edges[e];
        if (ed.from != self_id)
          continue;
        edge_wiring<Out> ew;
        ew.kind = ed.effective;
        ew.max_parallelism = g.job.config.max_parallelism;
        auto* down = dynamic_cast<node_input<Out>*>(g.nodes[ed.to].get());
        for (const auto& c : g.job.plan)
          if (c.edge == e && c.from_instance == index)
            ew.targets.push_back(channel_target<Out>{
              down->input_handle(c.to_instance), c.input_index, down->incarnation(c.to_instance)});
        w.outputs.push_back(std::move(ew));
      }
    }
    // Inputs: indexed by input channel index.
    if constexpr (!std::is_same_v<In, no_input>) {
      for (const auto& c : g.job.plan) {
        if (g.edges[c.edge].to != self_id || c.to_instance != index)
          continue;
        if (w.inputs.size() <= c.input_index)
          w.inputs.resize(c.input_index + 1);
        auto* up = dynamic_cast<node_output<In>*>(g.nodes[g.edges[c.edge].from].get());
        w.inputs[c.input_index] = {up->output_handle(c.from_instance), c.output_index,
                                   up->incarnation(c.from_instance)};
      }
    }
    return w;
  }

  Op prototype_;
  std::vector<host_actor<In, Out>> instances_;
  std::vector<uint32_t> incarnations_;
  std::vector<std::shared_ptr<recovery_log>> logs_;
  /// Per instance: whether it runs in this process.
  std::vector<bool> here_;
};

} // namespace sluice::detail
