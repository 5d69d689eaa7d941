#include "run.hpp"

#include <algorithm>
#include <filesystem>
#include <map>
#include <optional>
#include <random>
#include <stdexcept>
#include <utility>

#include "sluice/operators/kafka_source.hpp"

namespace chaos {

namespace {

using clock = std::chrono::steady_clock;

/// A fresh directory under the system's temporary directory, removed at the end of its scope.
class scratch_dir {
public:
  explicit scratch_dir(uint32_t seed) {
    std::random_device rd;
    path_ = std::filesystem::temp_directory_path()
            / ("sluice-chaos-" + std::to_string(seed) + "-" + std::to_string(rd()));
    std::filesystem::create_directories(path_);
  }
  ~scratch_dir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  scratch_dir(const scratch_dir&) = delete;
  scratch_dir& operator=(const scratch_dir&) = delete;

  [[nodiscard]] std::string file(const std::string& name) const { return (path_ / name).string(); }

private:
  std::filesystem::path path_;
};

/// What committed transactions wrote to `topic`, read back by a bounded job.
/// @throws std::runtime_error if it cannot be read.
std::vector<sum_record> read_topic(const std::string& bootstrap, const std::string& topic) {
  sluice::kafka_source_options options;
  options.topic = topic;
  options.properties = {{"bootstrap.servers", bootstrap}, {"group.id", "chaos-check"}};
  options.bounded = true;
  std::vector<sum_record> results;
  sluice::pipeline p{"chaos-check"};
  p.source(sluice::kafka_source(options, sluice::json_serde<sum_record>{}))
    .sink(sluice::collect(results));
  sluice::runtime rt;
  if (auto err = rt.run(p))
    throw std::runtime_error("reading back topic " + topic + ": " + sluice::describe(err));
  return results;
}

/// An instance that faults may hit.
struct instance_ref {
  std::string op;
  uint32_t index = 0;
  bool operator<(const instance_ref& other) const {
    return std::tie(op, index) < std::tie(other.op, other.index);
  }
};

/// The instances of the shape's operators named in `targets` (all of them if empty).
std::vector<instance_ref> fault_targets(const run_options& o) {
  std::vector<instance_ref> result;
  for (const auto& t : o.job_shape->targets) {
    if (!o.targets.empty()
        && std::find(o.targets.begin(), o.targets.end(), t.name) == o.targets.end())
      continue;
    for (uint32_t i = 0; i < t.parallelism; ++i)
      result.push_back({t.name, i});
  }
  return result;
}

/// A kill whose instance has not been seen back yet.
struct pending_kill {
  instance_ref instance;
  clock::time_point at;
  uint64_t restarts_before = 0;
};

/// Follows the instances' restart counters and how long each kill took to recover: a new
/// incarnation started `uptime` before the sample that first shows it.
class restart_watch {
public:
  void sample(const sluice::job& j) {
    auto now = clock::now();
    for (const auto& s : j.inspect()) {
      instance_ref ref{s.operator_name, s.instance};
      auto& seen = restarts_[ref];
      seen = std::max(seen, s.restarts);
      auto started = now - std::chrono::nanoseconds{s.uptime_ns};
      for (auto it = pending_.begin(); it != pending_.end();) {
        if (it->instance.op == ref.op && it->instance.index == ref.index
            && s.restarts > it->restarts_before) {
          recovery_ms_.push_back(
            std::chrono::duration<double, std::milli>(started - it->at).count());
          it = pending_.erase(it);
        } else {
          ++it;
        }
      }
    }
  }

  void killed(const instance_ref& instance) {
    pending_.push_back({instance, clock::now(), restarts_[instance]});
  }

  [[nodiscard]] uint64_t restarts() const {
    uint64_t sum = 0;
    for (const auto& [instance, n] : restarts_)
      sum += n;
    return sum;
  }

  std::vector<double> take_recovery_ms() { return std::move(recovery_ms_); }

private:
  std::map<instance_ref, uint64_t> restarts_;
  std::vector<pending_kill> pending_;
  std::vector<double> recovery_ms_;
};

/// What each live instance of `j` is at, to tell where a hung job is stuck.
std::string describe_instances(const sluice::job& j) {
  std::string out = "live instances:";
  for (const auto& s : j.inspect()) {
    out += "\n      " + s.operator_name + "#" + std::to_string(s.instance) + ": in "
           + std::to_string(s.records_in) + ", out " + std::to_string(s.records_out) + ", queued "
           + std::to_string(s.queued_records) + ", restarts " + std::to_string(s.restarts)
           + ", checkpoint taken " + std::to_string(s.checkpoint_taken) + " completed "
           + std::to_string(s.checkpoint_completed) + ", output credit";
    for (auto c : s.output_credit)
      out += " " + std::to_string(c);
    out += ", buffered";
    for (auto b : s.output_buffered)
      out += " " + std::to_string(b);
  }
  return out;
}

} // namespace

sluice::runtime_config job_config(const std::string& state_dir) {
  sluice::runtime_config config;
  config.state_dir = state_dir;
  config.checkpoint_interval = std::chrono::milliseconds{50};
  config.mode = sluice::execution_mode::streaming;
  config.batch_size = 64;
  config.input_buffer = 256;
  return config;
}

job_spec make_spec(const run_options& o, std::vector<sum_record>* out, const std::string& path) {
  job_spec spec;
  spec.records = o.records;
  spec.rate = o.rate;
  spec.supervise.intensity.max_restarts = 100'000;
  spec.supervise.backoff.max = std::chrono::milliseconds{20};
  spec.sink = out ? sink_kind::collect : sink_kind::file;
  spec.out = out;
  spec.path = path;
  return spec;
}

run_result run_in_process(const run_options& o) {
  run_result result;
  scratch_dir dir{o.seed};
  std::vector<sum_record> collected;
  auto path = dir.file("out.txt");
  auto spec = make_spec(o, o.sink == sink_kind::collect ? &collected : nullptr, path);
  if (o.sink == sink_kind::kafka) {
    if (!o.kafka) {
      result.skipped = "no Kafka broker";
      return result;
    }
    static int runs = 0;
    spec.sink = sink_kind::kafka;
    spec.bootstrap = o.kafka->bootstrap();
    spec.topic =
      "chaos-" + o.job_shape->name + "-" + std::to_string(o.seed) + "-" + std::to_string(++runs);
    try {
      o.kafka->create_topic(spec.topic, 2);
    } catch (const std::exception& e) {
      result.error = e.what();
      return result;
    }
  }
  sluice::pipeline p{"chaos"};
  o.job_shape->build(p, spec);
  sluice::runtime rt{job_config(dir.file("state"))};
  auto start = clock::now();
  auto j = rt.start(p);
  if (!j) {
    result.error = sluice::describe(j.error());
    return result;
  }
  auto targets = fault_targets(o);
  std::mt19937 random{o.seed};
  std::uniform_int_distribution<int64_t> gap{o.min_gap.count(), o.max_gap.count()};
  restart_watch watch;
  std::optional<caf::error> ended;
  while (result.faults < o.faults && !targets.empty()) {
    ended = j->wait_for(std::chrono::milliseconds{gap(random)});
    if (ended)
      break;
    watch.sample(*j);
    const auto& target = targets[random() % targets.size()];
    bool kill = o.kind == fault_kind::kill || (o.kind == fault_kind::both && random() % 2 == 0);
    if (kill) {
      watch.killed(target);
      (void)j->kill(target.op, target.index);
      ++result.kills;
    } else {
      (void)j->inject_fault(target.op, target.index, {1 + random() % 500, 0});
      ++result.throws;
    }
    ++result.faults;
  }
  if (!ended) {
    auto deadline = start + o.timeout;
    while (!ended && clock::now() < deadline) {
      ended = j->wait_for(std::chrono::milliseconds{100});
      if (!ended)
        watch.sample(*j);
    }
  }
  result.seconds = std::chrono::duration<double>(clock::now() - start).count();
  result.restarts = watch.restarts();
  result.recovery_ms = watch.take_recovery_ms();
  if (!ended) {
    result.error =
      "hung: no end within " + std::to_string(o.timeout.count()) + " s; " + describe_instances(*j);
    j->cancel();
    (void)j->wait();
    return result;
  }
  if (*ended) {
    result.error = sluice::describe(*ended);
    return result;
  }
  try {
    switch (o.sink) {
      case sink_kind::collect:
        break;
      case sink_kind::file:
        collected = read_results(path);
        break;
      case sink_kind::kafka:
        collected = read_topic(spec.bootstrap, spec.topic);
        break;
    }
    result.outcome = check(std::move(collected), o.records);
  } catch (const std::exception& e) {
    result.error = e.what();
  }
  return result;
}

} // namespace chaos
