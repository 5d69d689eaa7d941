#include "sluice/detail/job_plan.hpp"

#include <algorithm>
#include <map>

#include "sluice/error.hpp"
#include "sluice/pipeline.hpp"
#include "sluice/state.hpp"

namespace sluice::detail {

namespace {

std::string operator_name(const node_base& n) {
  return "operator '" + n.name + "'";
}

const char* partitioning_name(partitioning kind) {
  switch (kind) {
    case partitioning::forward:
      return "forward";
    case partitioning::rebalance:
      return "rebalance";
    case partitioning::hash:
      return "hash";
    case partitioning::broadcast:
      return "broadcast";
  }
  return "unknown";
}

/// A state error of pipeline `pipeline`: `e` said where and what.
caf::error state_error(const std::string& pipeline, const failure& e) {
  error_info info;
  info.code = info.cause = e.code();
  info.pipeline = pipeline;
  info.subject = e.subject();
  info.message = "pipeline '" + pipeline + "': " + e.what();
  return make_error(info);
}

} // namespace

graph& pipeline_access::graph_of(pipeline& p) {
  return *p.graph_;
}

std::shared_ptr<graph> pipeline_access::shared_graph_of(pipeline& p) {
  return p.graph_;
}

caf::error invalid_pipeline(const std::string& pipeline, const std::string& what,
                            const node_base* node) {
  error_info e;
  e.code = e.cause = errc::configuration;
  e.pipeline = pipeline;
  if (node)
    e.operator_name = node->name;
  e.message = "pipeline '" + pipeline + "': " + what;
  return make_error(e);
}

caf::expected<bool> resolve_graph(graph& g, const std::string& pipeline,
                                  const runtime_config& config) {
  auto invalid = [&](const std::string& what, const node_base* node = nullptr) {
    return invalid_pipeline(pipeline, what, node);
  };
  if (!g.problems.empty())
    return invalid(g.problems.front());
  if (config.batch_size == 0)
    return invalid("batch_size must be at least 1");
  if (config.input_buffer == 0)
    return invalid("input_buffer must be at least 1");
  if (config.max_parallelism == 0)
    return invalid("max_parallelism must be at least 1");
  auto is_source = [](const auto& n) { return n->is_source && !n->trails_other_sources; };
  auto is_sink = [](const auto& n) { return n->is_sink; };
  if (std::none_of(g.nodes.begin(), g.nodes.end(), is_source))
    return invalid("it has no source: start it with p.source(...)");
  if (std::none_of(g.nodes.begin(), g.nodes.end(), is_sink))
    return invalid("it has no sink: end each stream with .sink(...)");
  bool all_bounded = true;
  for (size_t n = 0; n < g.nodes.size(); ++n) {
    auto& node = *g.nodes[n];
    if (node.added) {
      // An added stage is part of its operator: named, supervised and failing like it.
      const auto& owner = *g.nodes[node.added->owner];
      node.name = owner.name + "/" + node.added->role;
      node.supervise = owner.supervise;
      node.on_failure = owner.on_failure;
    }
    auto par = node.added ? g.nodes[node.added->input]->effective_parallelism
                          : node.parallelism.value_or(config.default_parallelism);
    if (par == 0)
      return invalid(operator_name(node) + " has parallelism 0: it must be at least 1", &node);
    node.effective_parallelism = par;
    if (node.is_source && !node.bounded)
      all_bounded = false;
    if (node.on_failure == failure_policy::skip && node.is_source
        && !node.skips_undecodable_records)
      return invalid(operator_name(node)
                       + " is a source that decodes nothing: failure_policy::skip applies to "
                         "operators that handle records and to sources that decode them "
                         "(kafka_source); use restart or fail",
                     &node);
    if (node.on_failure == failure_policy::skip && !g.dead_letters)
      return invalid(operator_name(node)
                       + " skips records its code fails on, but they go nowhere: end "
                         "p.dead_letters() in a sink",
                     &node);
    bool consumed =
      std::any_of(g.edges.begin(), g.edges.end(), [&](const auto& e) { return e.from == n; });
    if (!node.is_sink && !consumed)
      return invalid(operator_name(node) + " has no consumer: its output goes nowhere; end "
                                           "the stream with .sink(...)",
                     &node);
  }
  // Each operator keeps its state in a directory named after it.
  std::map<std::string, const node_base*> directories;
  for (const auto& node : g.nodes) {
    auto [other, fresh] = directories.emplace(instance_directory_name(node->name, 0), node.get());
    if (!fresh)
      return invalid(other->second->name == node->name
                       ? "two operators are named '" + node->name
                           + "': give one of them another with .name(...)"
                       : "operators '" + other->second->name + "' and '" + node->name
                           + "' would keep their state in one directory: give one of them "
                             "another name with .name(...)",
                     node.get());
  }
  for (auto& e : g.edges) {
    auto up = g.nodes[e.from]->effective_parallelism;
    auto down = g.nodes[e.to]->effective_parallelism;
    e.effective = e.kind;
    if (e.kind == partitioning::hash && down > config.max_parallelism)
      return invalid(operator_name(*g.nodes[e.to]) + " has parallelism " + std::to_string(down)
                       + ", more than max_parallelism " + std::to_string(config.max_parallelism),
                     g.nodes[e.to].get());
    if (e.kind != partitioning::forward || up == down)
      continue;
    if (e.explicit_kind)
      return invalid("forward() from " + operator_name(*g.nodes[e.from]) + " (parallelism "
                       + std::to_string(up) + ") to " + operator_name(*g.nodes[e.to])
                       + " (parallelism " + std::to_string(down) + ") needs equal parallelism",
                     g.nodes[e.to].get());
    e.effective = partitioning::rebalance;
  }
  if (config.mode == execution_mode::batch && !all_bounded)
    return invalid("batch execution mode needs bounded sources only");
  uint32_t next_instance_number = 0;
  for (auto& node : g.nodes) {
    node->first_instance_number = next_instance_number;
    next_instance_number += node->effective_parallelism;
  }
  return config.mode == execution_mode::batch
         || (config.mode == execution_mode::automatic && all_bounded);
}

std::vector<channel_plan> plan_channels(const graph& g) {
  std::vector<channel_plan> plan;
  std::vector<std::vector<channel_index>> next_input(g.nodes.size());
  std::vector<std::vector<uint32_t>> next_output(g.nodes.size());
  for (size_t n = 0; n < g.nodes.size(); ++n) {
    next_input[n].assign(g.nodes[n]->effective_parallelism, 0);
    next_output[n].assign(g.nodes[n]->effective_parallelism, 0);
  }
  // Output indices follow edge order at the upstream, then target instance order, matching
  // how output_channels lays out its channels.
  for (size_t e = 0; e < g.edges.size(); ++e) {
    const auto& ed = g.edges[e];
    auto up = g.nodes[ed.from]->effective_parallelism;
    auto down = g.nodes[ed.to]->effective_parallelism;
    for (uint32_t u = 0; u < up; ++u)
      for (uint32_t d = 0; d < down; ++d) {
        if (ed.effective == partitioning::forward && u != d)
          continue;
        channel_plan c;
        c.edge = e;
        c.from_instance = u;
        c.to_instance = d;
        c.output_index = next_output[ed.from][u]++;
        plan.push_back(c);
      }
  }
  for (auto& c : plan) {
    auto to = g.edges[c.edge].to;
    c.input_index = next_input[to][c.to_instance]++;
  }
  return plan;
}

graph_manifest manifest_of(const graph& g, uint32_t max_parallelism) {
  graph_manifest m;
  m.max_parallelism = max_parallelism;
  for (const auto& node : g.nodes)
    m.operators.push_back({node->name, node->effective_parallelism, node->record_types()});
  for (const auto& e : g.edges)
    m.edges.push_back({g.nodes[e.from]->name, g.nodes[e.to]->name, partitioning_name(e.kind)});
  return m;
}

void add_checkpoint_participants(const graph& g, coordinator_config& cc) {
  for (const auto& node : g.nodes) {
    auto controls = node->control_handles();
    for (uint32_t i = 0; i < controls.size(); ++i) {
      auto number = static_cast<uint32_t>(cc.instances.size());
      if (node->trails_other_sources)
        cc.trailing_sources.push_back(number);
      else if (node->is_source)
        cc.sources.push_back(number);
      cc.instances.push_back(controls[i]);
      cc.instance_names.emplace_back(node->name, i);
    }
  }
}

std::string checkpoint_record_path(const std::string& pipeline, const runtime_config& config) {
  return pipeline_state_directory(config, pipeline) + "/checkpoints";
}

caf::expected<job_start> read_job_start(const std::string& pipeline, const runtime_config& config) {
  job_start start;
  if (config.checkpoint_interval.count() <= 0)
    return start;
  try {
    start.record = checkpoint_record::load(checkpoint_record_path(pipeline, config));
  } catch (const failure& e) {
    return state_error(pipeline, e);
  } catch (const std::exception& e) {
    return invalid_pipeline(pipeline, e.what());
  }
  // With LMDB state, every instance restores to the last checkpoint the job completed. In
  // memory, nothing outlives a run: a job starts afresh.
  if (config.state == state_backend::lmdb)
    start.restore_to = start.record.completed;
  return start;
}

caf::error prepare_state(const graph& g, const std::string& pipeline, const runtime_config& config,
                         std::optional<uint64_t> restore_to) {
  if (config.state != state_backend::lmdb)
    return {};
  try {
    prepare_state_directory(pipeline_state_directory(config, pipeline),
                            manifest_of(g, config.max_parallelism), restore_to);
  } catch (const failure& e) {
    return state_error(pipeline, e);
  } catch (const std::exception& e) {
    return invalid_pipeline(pipeline, e.what());
  }
  return {};
}

} // namespace sluice::detail
