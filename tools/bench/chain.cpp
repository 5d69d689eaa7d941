// Workload "chain": generator -> 10 x map -> sink over int64 records, beside a bare loop applying
// the same 10 functions; and "latency": the same chain rate-limited, end-to-end latency per record.

#include "chain.hpp"

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <mutex>
#include <string>

#include "sluice/all.hpp"

#include "bench.hpp"

namespace bench {

uint64_t chain_records(const options& opt) {
  return sized(opt, 100'000'000, 2'000'000);
}

namespace {

/// A sink adding up the values it receives (so no stage can be optimized away).
struct checksum_sink {
  using input_type = int64_t;
  using output_type = sluice::no_output;

  std::shared_ptr<std::atomic<uint64_t>> sum = std::make_shared<std::atomic<uint64_t>>(0);

  void on_batch(std::vector<sluice::record<int64_t>>& records,
                sluice::context<sluice::no_output>&) {
    uint64_t s = 0;
    for (const auto& r : records)
      s += static_cast<uint64_t>(r.value);
    sum->fetch_add(s, std::memory_order_relaxed);
  }
};

measurement run_sluice_chain(const options& opt, size_t workers) {
  auto n = chain_records(opt);
  auto cfg = runtime_config(opt);
  if (workers > 0)
    cfg.worker_threads = workers;
  sluice::runtime rt{cfg};
  sluice::pipeline p{"chain10"};
  auto s = p.source(
    sluice::generate<int64_t>([](uint64_t i) { return static_cast<int64_t>(i); }, {.count = n}));
  for (int64_t k = 0; k < chain_stages; ++k)
    s = s.map(chain_stage{k});
  checksum_sink sink;
  auto sum = sink.sum;
  s.sink(sink);
  return timed_run(rt, p, n, [&] { return sum->load(); });
}

measurement run_bare_chain(const options& opt) {
  auto n = chain_records(opt);
  return timed(n, [&] {
    uint64_t sum = 0;
    for (uint64_t i = 0; i < n; ++i) {
      auto x = static_cast<int64_t>(i);
      for (int64_t k = 0; k < chain_stages; ++k)
        x = chain_stage{k}(x);
      sum += static_cast<uint64_t>(x);
    }
    return sum;
  });
}

/// A sink recording, per record, now minus the creation stamp the source put in the value
/// (both in `stamp_now` ticks; converted to nanoseconds after the run).
struct latency_sink {
  using input_type = int64_t;
  using output_type = sluice::no_output;

  struct shared {
    std::mutex mutex;
    histogram hist;
    int64_t record_after = 0; ///< stamps before this are warm-up, not recorded
  };
  std::shared_ptr<shared> state = std::make_shared<shared>();

  void on_batch(std::vector<sluice::record<int64_t>>& records,
                sluice::context<sluice::no_output>&) {
    // A batch arrives at one instant: one clock read serves all its records.
    auto now = stamp_now();
    std::lock_guard<std::mutex> guard{state->mutex};
    for (const auto& r : records) {
      auto stamp = r.value - chain_stages; // every stage added 1
      if (stamp >= state->record_after)
        state->hist.record(now - stamp);
    }
  }
};

measurement run_latency(const options& opt, double rate) {
  if (rate <= 0)
    return failed("no maximum rate of the chain was measured");
  auto seconds = opt.quick ? 1.0 : 5.0 * std::min(opt.scale, 1.0);
  auto n = static_cast<uint64_t>(rate * seconds);
  sluice::runtime rt{runtime_config(opt)};
  sluice::pipeline p{"chain10-latency"};
  // Every record carries the tick of its creation.
  auto stamp = [](uint64_t) { return stamp_now(); };
  auto s = p.source(sluice::generate<int64_t>(stamp, {.count = n, .rate = rate}));
  for (int k = 0; k < chain_stages; ++k)
    s = s.map([](int64_t x) { return x + 1; });
  latency_sink sink;
  auto state = sink.state;
  s.sink(sink);
  std::string error;
  // The first 10% of the run (at most 0.5 s) is warm-up: thread start, first allocations.
  auto rough = stamp_ticks_per_ns(std::chrono::milliseconds(20));
  clock_pair before;
  state->record_after =
    before.ticks + static_cast<int64_t>(std::min(0.5, seconds * 0.1) * 1e9 * rough);
  auto m = timed(n, [&] {
    if (auto err = rt.run(p))
      error = sluice::describe(err);
    return uint64_t{0};
  });
  if (!error.empty())
    return failed(error);
  clock_pair after;
  auto us = 1e3 * ticks_per_ns(before, after); // ticks per microsecond
  const auto& h = state->hist;
  m.target_rate = rate;
  m.latency_samples = h.count();
  m.p50_us = h.quantile(0.50) / us;
  m.p90_us = h.quantile(0.90) / us;
  m.p99_us = h.quantile(0.99) / us;
  m.p999_us = h.quantile(0.999) / us;
  m.max_us = static_cast<double>(h.max()) / us;
  return m;
}

} // namespace

workload chain_workload() {
  return {
    "chain",
    "generator -> 10 x map(int64) -> sink, parallelism 1",
    {
      {"sluice", "Sluice pipeline, 12 actors, default config", false,
       [](const options& opt) { return run_sluice_chain(opt, 0); }},
      {"sluice_w1", "the same pipeline on one worker thread (worker_threads = 1)", false,
       [](const options& opt) { return run_sluice_chain(opt, 1); }},
      {"bare_loop", "one thread: 10 functions per element in a plain loop", true, run_bare_chain},
      {"bare_caf", "10 plain CAF actors passing vector<int64>(1024), ack window 64 batches", true,
       run_caf_chain},
    }};
}

workload latency_workload(const options& opt) {
  workload w{"latency",
             "the chain with x+1 stages, source rate-limited; latency = sink clock - source stamp",
             {}};
  for (auto f : opt.latency_fractions) {
    char name[32];
    char description[128];
    if (f == 0.5)
      std::snprintf(name, sizeof name, "half_max");
    else
      std::snprintf(name, sizeof name, "max*%g", f);
    std::snprintf(description, sizeof description,
                  "rate = %g x the chain's measured max rate, default flush delay", f);
    w.variants.push_back({name, description, false, [f](const options& o) {
                            return run_latency(o, measured_chain_max_rate() * f);
                          }});
  }
  return w;
}

} // namespace bench
