#include "sluice/runtime.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <string>
#include <thread>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/scoped_actor.hpp>

#include "sluice/actors/checkpoint_coordinator.hpp"
#include "sluice/actors/pipeline_supervisor.hpp"
#include "sluice/checkpoint_record.hpp"
#include "sluice/detail/parking_work_stealing.hpp"
#include "sluice/error.hpp"
#include "sluice/pipeline.hpp"
#include "sluice/protocol.hpp"
#include "sluice/state_layout.hpp"

namespace sluice {

namespace {

/// A configuration error of pipeline `p`, naming the operator `node` if the error is its.
caf::error invalid(const pipeline& p, const std::string& what,
                   const detail::node_base* node = nullptr) {
  error_info e;
  e.code = e.cause = errc::configuration;
  e.pipeline = p.name();
  if (node)
    e.operator_name = node->name;
  e.message = "pipeline '" + p.name() + "': " + what;
  return make_error(e);
}

std::string operator_name(const detail::node_base& n) {
  return "operator '" + n.name + "'";
}

/// Numbers the channels of every edge at both ends (see detail::channel_plan).
std::vector<detail::channel_plan> plan_channels(const detail::graph& g) {
  std::vector<detail::channel_plan> plan;
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
        detail::channel_plan c;
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

/// The operator graph as the state directory records it.
graph_manifest manifest_of(const detail::graph& g, uint32_t max_parallelism) {
  graph_manifest m;
  m.max_parallelism = max_parallelism;
  for (const auto& node : g.nodes)
    m.operators.push_back({node->name, node->effective_parallelism, node->record_types()});
  for (const auto& e : g.edges)
    m.edges.push_back({g.nodes[e.from]->name, g.nodes[e.to]->name, partitioning_name(e.kind)});
  return m;
}

} // namespace

caf::error job::wait() {
  std::unique_lock<std::mutex> guard{outcome_->mutex};
  outcome_->done.wait(guard, [&] { return outcome_->result.has_value(); });
  return *outcome_->result;
}

std::optional<caf::error> job::wait_for(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> guard{outcome_->mutex};
  if (!outcome_->done.wait_for(guard, timeout, [&] { return outcome_->result.has_value(); }))
    return std::nullopt;
  return *outcome_->result;
}

void job::cancel() {
  caf::anon_send_exit(supervisor_, caf::exit_reason::user_shutdown);
}

std::vector<instance_stats> job::inspect() const {
  std::vector<control_actor> instances;
  {
    std::lock_guard<std::mutex> guard{graph_->mutex};
    for (const auto& node : graph_->nodes) {
      auto controls = node->control_handles();
      instances.insert(instances.end(), controls.begin(), controls.end());
    }
  }
  std::vector<instance_stats> result;
  caf::scoped_actor self{*system_};
  // Every request goes out before the first answer is awaited: a busy instance delays the
  // sample by its own answer only.
  std::vector<decltype(self->request(instances.front(), caf::infinite, inspect_atom::value))>
    answers;
  for (const auto& h : instances)
    answers.push_back(self->request(h, std::chrono::seconds(5), inspect_atom::value));
  for (auto& answer : answers)
    answer.receive([&](instance_stats& s) { result.push_back(std::move(s)); },
                   [](caf::error&) { /* the instance has already ended */ });
  return result;
}

std::vector<checkpoint_stats> job::checkpoints() const {
  std::vector<checkpoint_stats> result;
  if (!coordinator_)
    return result;
  caf::scoped_actor self{*system_};
  self->request(coordinator_, std::chrono::seconds(5), checkpoints_atom::value)
    .receive([&](std::vector<checkpoint_stats>& s) { result = std::move(s); },
             [](caf::error&) { /* the coordinator has already ended */ });
  return result;
}

caf::expected<uint64_t> job::checkpoint_now() {
  if (!coordinator_)
    return make_error(errc::configuration,
                      "the job takes no checkpoints: set "
                      "runtime_config::checkpoint_interval");
  caf::expected<uint64_t> result = uint64_t{0};
  caf::scoped_actor self{*system_};
  self->request(coordinator_, std::chrono::seconds(5), checkpoint_now_atom::value)
    .receive([&](uint64_t id) { result = id; }, [&](caf::error& err) { result = std::move(err); });
  return result;
}

caf::expected<control_actor> job::instance(const std::string& operator_name, uint32_t index) const {
  std::lock_guard<std::mutex> guard{graph_->mutex};
  for (const auto& node : graph_->nodes) {
    if (node->name != operator_name)
      continue;
    auto controls = node->control_handles();
    if (index >= controls.size())
      return make_error(errc::configuration,
                        "operator '" + operator_name + "' has " + std::to_string(controls.size())
                          + " instances, no instance " + std::to_string(index),
                        operator_name);
    return controls[index];
  }
  return make_error(errc::configuration, "the job has no operator '" + operator_name + "'",
                    operator_name);
}

caf::error job::kill(const std::string& operator_name, uint32_t instance_index) {
  auto target = instance(operator_name, instance_index);
  if (!target)
    return std::move(target.error());
  caf::scoped_actor self{*system_};
  error_info killed;
  killed.code = killed.cause = errc::user_code;
  killed.pipeline = graph_->job.pipeline;
  killed.operator_name = operator_name;
  killed.instance = instance_index;
  killed.message = "instance " + std::to_string(instance_index) + " of operator '" + operator_name
                   + "' killed by fault injection";
  self->send_exit(*target, make_error(killed));
  return {};
}

caf::error job::inject_fault(const std::string& operator_name, uint32_t instance_index,
                             inject_fault_msg fault) {
  auto target = instance(operator_name, instance_index);
  if (!target)
    return std::move(target.error());
  caf::anon_send(*target, fault);
  return {};
}

struct runtime::impl {
  explicit impl(const runtime_config& config) : system(configure(actor_config, config)) {}

  static caf::actor_system_config& configure(caf::actor_system_config& cfg,
                                             const runtime_config& config) {
    auto workers = config.worker_threads > 0
                     ? config.worker_threads
                     : std::max<size_t>(std::thread::hardware_concurrency(), 1);
    cfg.set("scheduler.max-threads", workers);
    register_protocol(cfg);
    if (config.scheduler == scheduler_policy::sharing) {
      cfg.set("scheduler.policy", caf::atom("sharing"));
    } else {
      // CAF's own work stealing polls while idle; this policy parks idle workers instead.
      detail::parking_work_stealing::install(cfg);
    }
    return cfg;
  }

  ~impl() {
    if (!temporary_state_dir.empty()) {
      std::error_code ignored;
      std::filesystem::remove_all(temporary_state_dir, ignored);
    }
  }

  /// The state directory for pipelines of this runtime: the configured one, or a temporary
  /// directory created on first use and removed with the runtime.
  caf::expected<std::string> state_dir(const runtime_config& config) {
    if (!config.state_dir.empty())
      return config.state_dir;
    if (temporary_state_dir.empty()) {
      std::error_code ec;
      auto base = std::filesystem::temp_directory_path(ec);
      std::string pattern = (ec ? std::filesystem::path{"/tmp"} : base) / "sluice-state-XXXXXX";
      if (!mkdtemp(pattern.data()))
        return make_error(errc::configuration, "cannot create a temporary state directory "
                                                 + pattern + ": " + std::strerror(errno)
                                                 + "; set runtime_config::state_dir");
      temporary_state_dir = pattern;
    }
    return temporary_state_dir;
  }

  // The actor system keeps a reference to its config: declared first, destroyed last.
  caf::actor_system_config actor_config;
  caf::actor_system system;
  std::string temporary_state_dir;
};

runtime::runtime() : runtime(runtime_config{}) {}

runtime::runtime(runtime_config config) : config_(config), impl_(std::make_unique<impl>(config_)) {}

runtime::~runtime() = default;

caf::actor_system& runtime::system() noexcept {
  return impl_->system;
}

caf::error runtime::run(pipeline& p) {
  auto j = start(p);
  if (!j)
    return std::move(j.error());
  return j->wait();
}

caf::expected<job> runtime::start(pipeline& p) {
  auto& g = *p.graph_;
  if (!g.problems.empty())
    return invalid(p, g.problems.front());
  if (config_.batch_size == 0)
    return invalid(p, "batch_size must be at least 1");
  if (config_.input_buffer == 0)
    return invalid(p, "input_buffer must be at least 1");
  if (config_.max_parallelism == 0)
    return invalid(p, "max_parallelism must be at least 1");
  auto is_source = [](const auto& n) { return n->is_source && !n->trails_other_sources; };
  auto is_sink = [](const auto& n) { return n->is_sink; };
  if (std::none_of(g.nodes.begin(), g.nodes.end(), is_source))
    return invalid(p, "it has no source: start it with p.source(...)");
  if (std::none_of(g.nodes.begin(), g.nodes.end(), is_sink))
    return invalid(p, "it has no sink: end each stream with .sink(...)");
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
                          : node.parallelism.value_or(config_.default_parallelism);
    if (par == 0)
      return invalid(p, operator_name(node) + " has parallelism 0: it must be at least 1", &node);
    node.effective_parallelism = par;
    if (node.is_source && !node.bounded)
      all_bounded = false;
    if (node.on_failure == failure_policy::skip && node.is_source
        && !node.skips_undecodable_records)
      return invalid(p, operator_name(node)
                          + " is a source that decodes nothing: failure_policy::skip applies to "
                            "operators that handle records and to sources that decode them "
                            "(kafka_source); use restart or fail",
                    &node);
    if (node.on_failure == failure_policy::skip && !g.dead_letters)
      return invalid(p, operator_name(node)
                          + " skips records its code fails on, but they go nowhere: end "
                            "p.dead_letters() in a sink",
                    &node);
    bool consumed =
      std::any_of(g.edges.begin(), g.edges.end(), [&](const auto& e) { return e.from == n; });
    if (!node.is_sink && !consumed)
      return invalid(p, operator_name(node) + " has no consumer: its output goes nowhere; end "
                                              "the stream with .sink(...)",
                    &node);
  }
  // Each operator keeps its state in a directory named after it.
  std::map<std::string, const detail::node_base*> directories;
  for (const auto& node : g.nodes) {
    auto [other, fresh] = directories.emplace(instance_directory_name(node->name, 0), node.get());
    if (!fresh)
      return invalid(p,
                     other->second->name == node->name
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
    if (e.kind == partitioning::hash && down > config_.max_parallelism)
      return invalid(p,
                     operator_name(*g.nodes[e.to]) + " has parallelism " + std::to_string(down)
                       + ", more than max_parallelism " + std::to_string(config_.max_parallelism),
                     g.nodes[e.to].get());
    if (e.kind != partitioning::forward || up == down)
      continue;
    if (e.explicit_kind)
      return invalid(p,
                     "forward() from " + operator_name(*g.nodes[e.from]) + " (parallelism "
                       + std::to_string(up) + ") to " + operator_name(*g.nodes[e.to])
                       + " (parallelism " + std::to_string(down) + ") needs equal parallelism",
                     g.nodes[e.to].get());
    e.effective = partitioning::rebalance;
  }
  if (config_.mode == execution_mode::batch && !all_bounded)
    return invalid(p, "batch execution mode needs bounded sources only");
  bool batch_mode = config_.mode == execution_mode::batch
                    || (config_.mode == execution_mode::automatic && all_bounded);

  auto config = config_;
  bool checkpoints = config.checkpoint_interval.count() > 0;
  if (config.state == state_backend::lmdb || checkpoints) {
    auto dir = impl_->state_dir(config_);
    if (!dir)
      return std::move(dir.error());
    config.state_dir = *dir;
  }
  // With checkpoints and LMDB state, every instance restores to the last checkpoint the job
  // completed, its state moved first if the parallelism changed. In memory, nothing outlives a
  // run: a job starts afresh.
  auto state_dir = pipeline_state_directory(config, p.name());
  auto record_path = state_dir + "/checkpoints";
  checkpoint_record record;
  std::optional<uint64_t> restore_to;
  try {
    if (checkpoints)
      record = checkpoint_record::load(record_path);
    if (config.state == state_backend::lmdb) {
      if (checkpoints)
        restore_to = record.completed;
      prepare_state_directory(state_dir, manifest_of(g, config.max_parallelism), restore_to);
    }
  } catch (const failure& e) {
    error_info info;
    info.code = info.cause = e.code();
    info.pipeline = p.name();
    info.subject = e.subject();
    info.message = "pipeline '" + p.name() + "': " + e.what();
    return make_error(info);
  } catch (const std::exception& e) {
    return invalid(p, e.what());
  }
  if (g.dead_letters) {
    std::vector<uint32_t> producers;
    uint32_t number = 0;
    for (const auto& node : g.nodes) {
      for (uint32_t i = 0; i < node->effective_parallelism; ++i, ++number)
        if (node->on_failure == failure_policy::skip)
          producers.push_back(number);
    }
    g.dead_letters->reset(producers, checkpoints);
  }
  auto& sys = impl_->system;
  g.job =
    detail::job_settings{&sys,
                         config,
                         p.name(),
                         batch_mode,
                         restore_to,
                         {},
                         checkpoints && config.state == state_backend::lmdb && config.recovery,
                         plan_channels(g),
                         std::make_shared<detail::retention_gate>()};
  job result;
  result.system_ = &sys;
  result.graph_ = p.graph_;
  result.outcome_ = std::make_shared<job_outcome>();
  std::unique_lock<std::mutex> guard{g.mutex};
  uint32_t next_instance_number = 0;
  for (size_t id = 0; id < g.nodes.size(); ++id) {
    auto& node = *g.nodes[id];
    node.first_instance_number = next_instance_number;
    next_instance_number += node.effective_parallelism;
    node.spawn(g, id);
  }
  if (checkpoints) {
    coordinator_config cc;
    cc.interval = config.checkpoint_interval;
    cc.record_path = record_path;
    cc.record = record;
    for (auto& node : g.nodes) {
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
    g.job.coordinator = spawn_checkpoint_coordinator(sys, std::move(cc));
    result.coordinator_ = g.job.coordinator;
  }
  for (size_t n = 0; n < g.nodes.size(); ++n)
    g.nodes[n]->wire(g, n);
  std::vector<control_actor> instances;
  for (auto& node : g.nodes) {
    auto controls = node->control_handles();
    instances.insert(instances.end(), controls.begin(), controls.end());
  }
  guard.unlock();
  result.supervisor_ = spawn_pipeline_supervisor(sys, p.graph_, result.outcome_);
  for (auto& h : instances)
    caf::anon_send(h, start_atom::value);
  return result;
}

} // namespace sluice
