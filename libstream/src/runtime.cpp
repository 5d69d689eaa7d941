#include "sluice/runtime.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/scoped_actor.hpp>

#include "sluice/actors/checkpoint_coordinator.hpp"
#include "sluice/actors/pipeline_supervisor.hpp"
#include "sluice/detail/job_plan.hpp"
#include "sluice/detail/parking_work_stealing.hpp"
#include "sluice/error.hpp"
#include "sluice/pipeline.hpp"
#include "sluice/protocol.hpp"

namespace sluice {

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

void configure_actor_system(caf::actor_system_config& cfg, const runtime_config& config) {
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
}

struct runtime::impl {
  explicit impl(const runtime_config& config) : system(configure(actor_config, config)) {}

  static caf::actor_system_config& configure(caf::actor_system_config& cfg,
                                             const runtime_config& config) {
    configure_actor_system(cfg, config);
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
  auto& g = detail::pipeline_access::graph_of(p);
  auto batch_mode = detail::resolve_graph(g, p.name(), config_);
  if (!batch_mode)
    return std::move(batch_mode.error());
  auto config = config_;
  bool checkpoints = config.checkpoint_interval.count() > 0;
  if (config.state == state_backend::lmdb || checkpoints) {
    auto dir = impl_->state_dir(config_);
    if (!dir)
      return std::move(dir.error());
    config.state_dir = *dir;
  }
  auto start = detail::read_job_start(p.name(), config);
  if (!start)
    return std::move(start.error());
  if (auto err = detail::prepare_state(g, p.name(), config, start->restore_to))
    return err;
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
                         *batch_mode,
                         start->restore_to,
                         {},
                         checkpoints && config.state == state_backend::lmdb && config.recovery,
                         detail::plan_channels(g),
                         std::make_shared<detail::retention_gate>(),
                         {},
                         nullptr};
  job result;
  result.system_ = &sys;
  result.graph_ = detail::pipeline_access::shared_graph_of(p);
  result.outcome_ = std::make_shared<job_outcome>();
  std::unique_lock<std::mutex> guard{g.mutex};
  for (size_t id = 0; id < g.nodes.size(); ++id)
    g.nodes[id]->spawn(g, id);
  if (checkpoints) {
    coordinator_config cc;
    cc.interval = config.checkpoint_interval;
    cc.record_path = detail::checkpoint_record_path(p.name(), config);
    cc.record = start->record;
    detail::add_checkpoint_participants(g, cc);
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
  result.supervisor_ = spawn_pipeline_supervisor(sys, result.graph_, result.outcome_);
  for (auto& h : instances)
    caf::anon_send(h, start_atom::value);
  return result;
}

} // namespace sluice
