#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <typeinfo>
#include <vector>

#include <caf/actor_system.hpp>

#include <cxxabi.h>

#include "sluice/config.hpp"
#include "sluice/context.hpp"
#include "sluice/detail/output_channels.hpp"
#include "sluice/interfaces.hpp"

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

/// A node of the logical graph; knows how to spawn and wire its instances.
class node_base {
public:
  virtual ~node_base() = default;

  std::string name;
  std::optional<uint32_t> parallelism;
  bool is_source = false;
  bool is_sink = false;
  bool bounded = true;
  /// Resolved when the pipeline starts.
  uint32_t effective_parallelism = 1;

  /// A stage the pipeline added in front of an operator (its combiner): it runs at the
  /// parallelism of its input node and is named `<operator name>/<role>`.
  struct added_stage {
    size_t input = 0;
    size_t owner = 0;
    std::string role;
  };
  std::optional<added_stage> added;

  /// The record types in and out, as "In -> Out".
  [[nodiscard]] virtual std::string record_types() const = 0;

  /// Spawns one actor per instance; their keyed state restores to checkpoint `restore_to`
  /// when given.
  virtual void spawn(caf::actor_system& sys, const runtime_config& config,
                     const std::string& pipeline, bool batch_mode,
                     std::optional<uint64_t> restore_to) = 0;

  /// Sends each instance its wiring; instance i gets the number `first_instance_number + i`
  /// for acknowledging checkpoints to `coordinator` (null when the job takes none).
  virtual void wire(const graph& g, const std::vector<channel_plan>& plan, size_t self_id,
                    const coordinator_actor& coordinator, uint32_t first_instance_number) = 0;

  [[nodiscard]] virtual std::vector<output_actor> output_handles() const = 0;
  [[nodiscard]] virtual std::vector<control_actor> control_handles() const = 0;
  [[nodiscard]] virtual std::vector<caf::actor> actors() const = 0;
};

/// The instances of a node that accept records of type T.
template <class T>
class node_input {
public:
  virtual ~node_input() = default;
  [[nodiscard]] virtual std::vector<input_actor<T>> input_handles() const = 0;
};

/// The logical graph of a pipeline: nodes in creation order and the edges between them.
class graph {
public:
  std::vector<std::unique_ptr<node_base>> nodes;
  std::vector<edge> edges;
  /// Misuse found while the pipeline was described, reported when it runs.
  std::vector<std::string> problems;
};

/// A node hosting instances of `Host` (an operator_host or source_host).
template <class Host, class In, class Out, class Op>
class host_node final : public node_base, public node_input<In> {
public:
  explicit host_node(Op prototype) : prototype_(std::move(prototype)) {}

  std::string record_types() const override { return type_name<In>() + " -> " + type_name<Out>(); }

  void spawn(caf::actor_system& sys, const runtime_config& config, const std::string& pipeline,
             bool batch_mode, std::optional<uint64_t> restore_to) override {
    instances_.clear();
    max_parallelism_ = config.max_parallelism;
    for (uint32_t i = 0; i < effective_parallelism; ++i) {
      instance_info info{pipeline,   name,      i, effective_parallelism, config.max_parallelism,
                         batch_mode, restore_to};
      instances_.push_back(sys.spawn<Host>(prototype_, std::move(info), config));
    }
  }

  void wire(const graph& g, const std::vector<channel_plan>& plan, size_t self_id,
            const coordinator_actor& coordinator, uint32_t first_instance_number) override {
    for (uint32_t i = 0; i < effective_parallelism; ++i) {
      wiring<Out> w;
      w.coordinator = coordinator;
      w.instance_number = first_instance_number + i;
      // Outputs: one edge_wiring per outgoing edge, targets in output-index order.
      if constexpr (!std::is_same_v<Out, no_output>) {
        for (size_t e = 0; e < g.edges.size(); ++e) {
          const auto& ed = g.edges[e];
          if (ed.from != self_id)
            continue;
          edge_wiring<Out> ew;
          ew.kind = ed.effective;
          ew.max_parallelism = max_parallelism_;
          if (ed.key_hash)
            ew.key_hash =
              *static_cast<const std::function<uint64_t(const Out&)>*>(ed.key_hash.get());
          auto* down = dynamic_cast<node_input<Out>*>(g.nodes[ed.to].get());
          auto handles = down->input_handles();
          for (const auto& c : plan)
            if (c.edge == e && c.from_instance == i)
              ew.targets.push_back(channel_target<Out>{handles[c.to_instance], c.input_index});
          w.outputs.push_back(std::move(ew));
        }
      }
      // Inputs: indexed by input channel index.
      for (const auto& c : plan) {
        if (g.edges[c.edge].to != self_id || c.to_instance != i)
          continue;
        if (w.inputs.size() <= c.input_index)
          w.inputs.resize(c.input_index + 1);
        auto ups = g.nodes[g.edges[c.edge].from]->output_handles();
        w.inputs[c.input_index] = {ups[c.from_instance], c.output_index};
      }
      caf::anon_send(instances_[i], std::move(w));
    }
  }

  std::vector<output_actor> output_handles() const override {
    return {instances_.begin(), instances_.end()};
  }

  std::vector<control_actor> control_handles() const override {
    return {instances_.begin(), instances_.end()};
  }

  std::vector<caf::actor> actors() const override {
    std::vector<caf::actor> result;
    for (const auto& h : instances_)
      result.push_back(caf::actor_cast<caf::actor>(h));
    return result;
  }

  std::vector<input_actor<In>> input_handles() const override {
    return {instances_.begin(), instances_.end()};
  }

private:
  Op prototype_;
  uint32_t max_parallelism_ = 128;
  std::vector<host_actor<In, Out>> instances_;
};

} // namespace sluice::detail
