// Workload "recovery": a keyed count over 10^6 integer keys in LMDB, checkpointed every second,
//
//   generate(index) (p=2, fixed rate) -> key_by(index mod keys) -> count (p=2) -> counting sink
//   (p=2)
//
// at 100k records/s (--recovery-rate), a rate the job keeps steadily: at 400k/s, writing the
// changes of 400k keys at each checkpoint stalls the count and the sources catch up in bursts,
// so "the rate before" is no rate the job holds (docs/benchmarks.md, "Recovery"),
// loses instance 0 of the count half a second after a checkpoint completed. The sink counts new
// results (a key's count above the highest seen: what a restart computes again is not
// progress); a sampler reads that count every millisecond. Recovery time is from the
// kill to the start of the first 20 ms window after the dip whose rate is back at 90% of the
// rate in the second before the kill. The variants differ in what restarts:
//
//   local   the count instance alone (operator one_for_one; upstream replays what it retained)
//   region  the count operator and the sink downstream of it (pipeline rest_for_one)
//   full    every operator, sources rewinding to the checkpoint (pipeline one_for_all)
//
// Workload "retention" runs the same pipeline, bounded, at full speed with recovery on (instances
// log their input order and retain what they sent) and off: what retention costs.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "sluice/all.hpp"

#include "bench.hpp"

namespace bench {

namespace {

using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

/// What the sinks saw: per key the highest count, and how many results were new.
struct progress {
  explicit progress(uint64_t keys) : highest(keys) {}

  std::vector<std::atomic<int64_t>> highest;
  std::atomic<uint64_t> fresh{0};
};

/// Counts the results that are new: a count above the highest its key had. What a restart
/// produces again (a rewound source's records counted again from a restored state) is not
/// progress, so recovery ends when new results come at the old rate again.
struct progress_sink {
  using input_type = std::pair<int64_t, int64_t>;
  using output_type = sluice::no_output;

  std::shared_ptr<progress> seen;

  void on_batch(std::vector<sluice::record<input_type>>& records,
                sluice::context<sluice::no_output>&) {
    uint64_t fresh = 0;
    for (const auto& r : records) {
      auto& highest = seen->highest[static_cast<size_t>(r.value.first)];
      if (r.value.second > highest.load(std::memory_order_relaxed)) {
        highest.store(r.value.second, std::memory_order_relaxed);
        ++fresh;
      }
    }
    seen->fresh.fetch_add(fresh, std::memory_order_relaxed);
  }
};

enum class restart_scope { local, region, full };

struct recovery_plan {
  uint64_t keys = 1'000'000;
  double rate = 100'000;
  restart_scope scope = restart_scope::local;
};

/// The pipeline of the workload; unbounded with `records` empty.
void build(sluice::pipeline& p, const recovery_plan& plan, std::optional<uint64_t> records,
           std::shared_ptr<progress> seen) {
  sluice::supervision operator_supervision;
  if (plan.scope != restart_scope::local)
    operator_supervision.intensity.max_restarts = 0; // the pipeline restarts the operator
  auto keys = static_cast<int64_t>(plan.keys);
  p.source(sluice::generate<int64_t>([](uint64_t i) { return static_cast<int64_t>(i); },
                                     {records, records ? 0 : plan.rate}))
    .parallelism(2)
    .name("source")
    .supervision(operator_supervision)
    .key_by([keys](const int64_t& i) { return i % keys; })
    .count()
    .parallelism(2)
    .name("count")
    .supervision(operator_supervision)
    .sink(progress_sink{std::move(seen)})
    .parallelism(2)
    .name("sink")
    .supervision(operator_supervision);
  sluice::supervision pipeline_supervision;
  pipeline_supervision.intensity.max_restarts = 3;
  pipeline_supervision.strategy = plan.scope == restart_scope::full
                                    ? sluice::restart_strategy::one_for_all
                                    : sluice::restart_strategy::rest_for_one;
  if (plan.scope != restart_scope::local)
    p.supervision(pipeline_supervision);
}

sluice::runtime_config checkpointed(const options& opt) {
  auto config = runtime_config(opt);
  config.state_dir = child_state_dir();
  config.checkpoint_interval = 1s;
  config.mode = sluice::execution_mode::streaming;
  return config;
}

/// The highest checkpoint the job completed.
uint64_t completed_checkpoint(const sluice::job& j) {
  uint64_t last = 0;
  for (const auto& c : j.checkpoints())
    if (c.completed)
      last = std::max(last, c.id);
  return last;
}

/// Stops an unbounded job (it ends with a cancellation error, which says nothing here).
void stop(sluice::job& j) {
  j.cancel();
  static_cast<void>(j.wait());
}

struct sample {
  steady::time_point time;
  uint64_t fresh = 0;
};

/// Records/s between samples `a` and `b`.
double rate_between(const sample& a, const sample& b) {
  auto s = std::chrono::duration<double>(b.time - a.time).count();
  return s > 0 ? static_cast<double>(b.fresh - a.fresh) / s : 0;
}

/// The first sample at least `gap` after sample `i` (the last if none is).
size_t after(const std::vector<sample>& samples, size_t i, steady::duration gap) {
  auto j = i;
  while (j + 1 < samples.size() && samples[j].time - samples[i].time < gap)
    ++j;
  return j;
}

measurement run_recovery(const options& opt, const recovery_plan& plan) {
  auto seen = std::make_shared<progress>(plan.keys);
  const auto& fresh = seen->fresh;
  sluice::pipeline p{"recovery"};
  build(p, plan, std::nullopt, seen);
  sluice::runtime rt{checkpointed(opt)};
  auto j = rt.start(p);
  if (!j)
    return failed(sluice::describe(j.error()));
  std::vector<sample> samples;
  samples.reserve(1 << 16);
  auto record = [&] { samples.push_back({steady::now(), fresh.load()}); };
  // Warm up: every key counted once, and checkpoints taken with all of them.
  auto warm_until = static_cast<uint64_t>(plan.keys) + fresh.load();
  auto deadline = steady::now() + 120s;
  while ((fresh.load() < warm_until || completed_checkpoint(*j) < 3) && steady::now() < deadline)
    std::this_thread::sleep_for(10ms);
  auto checkpoint = completed_checkpoint(*j);
  while (completed_checkpoint(*j) == checkpoint && steady::now() < deadline)
    std::this_thread::sleep_for(1ms);
  if (steady::now() >= deadline) {
    stop(*j);
    return failed("the job did not warm up within 120 s");
  }
  // Half a second after a checkpoint completed: what a restart from it must do again.
  auto kill_at = steady::now() + 500ms;
  auto base_from = kill_at - 1s;
  while (steady::now() < kill_at) {
    record();
    std::this_thread::sleep_for(1ms);
  }
  auto start = usage_point::now();
  auto kill_index = samples.size();
  record();
  if (auto error = j->kill("count", 0)) {
    stop(*j);
    return failed(sluice::describe(error));
  }
  auto end = steady::now() + 4s;
  while (steady::now() < end) {
    record();
    std::this_thread::sleep_for(1ms);
  }
  measurement m;
  finish_measurement(m, start);
  m.records = samples.back().fresh - samples[kill_index].fresh;
  uint64_t restarts = 0;
  for (const auto& s : j->inspect())
    restarts += s.restarts;
  stop(*j);

  size_t base_index = 0;
  while (samples[base_index].time < base_from)
    ++base_index;
  auto base = rate_between(samples[base_index], samples[kill_index]);
  constexpr auto window = 20ms;
  // The dip: the first window after the kill below 90% of the base rate; recovered: the first
  // window after it back at 90%.
  std::optional<size_t> dip;
  std::optional<size_t> back;
  for (auto i = kill_index; i + 1 < samples.size(); ++i) {
    auto w = after(samples, i, window);
    if (samples[w].time - samples[i].time < window)
      break;
    bool low = rate_between(samples[i], samples[w]) < 0.9 * base;
    if (!dip && low)
      dip = i;
    if (dip && !low) {
      back = i;
      break;
    }
  }
  if (!back)
    return failed("throughput did not come back to 90% within 4 s (dip "
                  + std::string{dip ? "seen" : "not seen"} + ")");
  auto recovery_ms =
    std::chrono::duration<double, std::milli>(samples[*back].time - samples[kill_index].time)
      .count();
  m.add_figure("recovery", "ms", recovery_ms);
  m.add_figure("rate_before", "rec/s", base);
  m.add_figure("restarts", "", static_cast<double>(restarts));
  m.ok = true;
  return m;
}

measurement run_retention(const options& opt, const recovery_plan& plan, bool recovery) {
  auto seen = std::make_shared<progress>(plan.keys);
  auto records = opt.quick ? uint64_t{200'000} : static_cast<uint64_t>(8'000'000 * opt.scale);
  sluice::pipeline p{"retention"};
  build(p, plan, records, seen);
  auto config = checkpointed(opt);
  config.recovery = recovery;
  sluice::runtime rt{config};
  return timed_run(rt, p, records, [&] { return seen->fresh.load(); });
}

recovery_plan plan_for(const options& opt, restart_scope scope) {
  recovery_plan plan;
  plan.scope = scope;
  if (opt.quick) {
    plan.keys = 10'000;
    plan.rate = 50'000;
  }
  if (opt.recovery_rate > 0)
    plan.rate = opt.recovery_rate;
  return plan;
}

} // namespace

workload recovery_workload(const options& opt) {
  workload w{"recovery",
             "keyed count of 1e6 keys in LMDB, 1 s checkpoints, at 100k records/s: time from "
             "killing one count instance until new results come at 90% of the rate before",
             {}};
  for (auto [label, scope, text] :
       {std::tuple{"local", restart_scope::local, "the instance restarts alone"},
        std::tuple{"region", restart_scope::region, "the count and the sink restart"},
        std::tuple{"full", restart_scope::full, "every operator restarts"}}) {
    auto plan = plan_for(opt, scope);
    w.variants.push_back(
      {label, text, false, [plan](const options& o) { return run_recovery(o, plan); }});
  }
  return w;
}

workload retention_workload(const options& opt) {
  workload w{"retention",
             "the recovery workload's pipeline, 8M records at full speed, 1 s checkpoints: with "
             "and without recovery (input-order logs and retention)",
             {}};
  auto plan = plan_for(opt, restart_scope::local);
  w.variants.push_back({"recovery_on", "recovery on: logs and retention", false,
                        [plan](const options& o) { return run_retention(o, plan, true); }});
  w.variants.push_back({"recovery_off", "recovery off (reference)", true,
                        [plan](const options& o) { return run_retention(o, plan, false); }});
  return w;
}

} // namespace bench
