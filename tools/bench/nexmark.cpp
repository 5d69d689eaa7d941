// Workloads "nexmark-q0" ... "nexmark-q14": each Nexmark query run by the nexmark example
// (examples/nexmark/) over generated events into a blackhole sink, at parallelism 1 and 2,
// beside the generator alone (every event into the blackhole, at parallelism 2: the ceiling of
// every query) in the same run. Each run is a process of its own, so its CPU time and peak
// resident set are the query's. Figures beside events/s: events/s per core (events per CPU
// second) and that over Flink's published per-core figure (docs/benchmarks.md cites them).

#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

#include "bench.hpp"

namespace bench {

namespace {

/// A query, and Flink's events/s per core for it (Flink's Nexmark, GUIDE_V1.md: 8 task managers
/// of one slot, 10 M events/s, 100 M events); 0 where Flink publishes none.
struct query {
  const char* name;
  const char* what;
  double flink_per_core;
};

constexpr query queries[] = {
  {"q0", "pass-through", 155'000},
  {"q1", "currency conversion", 158'000},
  {"q2", "selection", 175'000},
  {"q3", "local item suggestion (foreign-key table join)", 152'000},
  {"q4", "average price per category (winning bids, grouped table)", 34'000},
  {"q5", "hot items (sliding windows)", 22'000},
  {"q6", "average selling price by seller (not runnable in Flink)", 0},
  {"q7", "highest bid (tumbling windows)", 12'000},
  {"q8", "monitor new users (tumbling windows)", 146'000},
  {"q9", "winning bids", 14'000},
  {"q10", "log to partitioned files", 58'000},
  {"q11", "user sessions (session windows)", 40'000},
  {"q12", "processing-time windows", 76'000},
  {"q13", "bounded side input join", 131'000},
  {"q14", "calculation with a user-defined function", 161'000},
};

/// Runs the nexmark example on `query` over `events` events at `parallelism` and measures it:
/// wall time from start to exit, its CPU time and peak resident set (from wait4).
measurement run_example(const std::string& query, uint64_t events, uint32_t parallelism) {
#ifdef SLUICE_NEXMARK_EXAMPLE
  auto out = child_state_dir() + "-q10";
  std::vector<std::string> args{SLUICE_NEXMARK_EXAMPLE,
                                "--query",
                                query,
                                "--events",
                                std::to_string(events),
                                "--parallelism",
                                std::to_string(parallelism)};
  if (query == "q10")
    args.insert(args.end(), {"--out", out});
  std::vector<char*> argv;
  for (auto& a : args)
    argv.push_back(a.data());
  argv.push_back(nullptr);
  auto start = usage_point::now();
  auto pid = fork();
  if (pid < 0)
    return failed(std::string{"fork: "} + std::strerror(errno));
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL); // dies with a measurement killed for its timeout
    execv(argv[0], argv.data());
    _exit(127);
  }
  int status = 0;
  rusage used{};
  while (wait4(pid, &status, 0, &used) < 0 && errno == EINTR) {
  }
  measurement m;
  m.records = events;
  finish_measurement(m, start);
  std::error_code ignored;
  std::filesystem::remove_all(out, ignored);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    return failed("the nexmark example failed (status " + std::to_string(status) + ")");
  m.cpu_user_s = static_cast<double>(used.ru_utime.tv_sec) + used.ru_utime.tv_usec / 1e6;
  m.cpu_sys_s = static_cast<double>(used.ru_stime.tv_sec) + used.ru_stime.tv_usec / 1e6;
  m.background_cores = std::max(0.0, m.background_cores - m.cpu_s() / m.wall_s);
  m.peak_rss_kb = static_cast<uint64_t>(used.ru_maxrss);
  m.ok = true;
  return m;
#else
  (void)query;
  (void)events;
  (void)parallelism;
  return failed("built without the nexmark example (SLUICE_BUILD_EXAMPLES=OFF)");
#endif
}

/// A variant running `query` (or "events": the generator alone) at `parallelism`; Sluice's
/// variants report events/s per core, and that over Flink's.
variant at_parallelism(const query& q, const std::string& run, uint32_t parallelism,
                       bool reference) {
  auto name = (reference ? std::string{"generator_p"} : std::string{"sluice_p"})
              + std::to_string(parallelism);
  auto description = reference
                       ? "the generator alone: every event to the blackhole"
                       : std::string{q.name} + " at parallelism " + std::to_string(parallelism);
  return {name, description, reference, [q, run, parallelism, reference](const options& opt) {
            auto m = run_example(run, sized(opt, 10'000'000, 20'000), parallelism);
            if (m.ok && m.cpu_s() > 0) {
              auto per_core = static_cast<double>(m.records) / m.cpu_s();
              m.add_figure("events/s per core", "ev/s", per_core);
              if (!reference && q.flink_per_core > 0)
                m.add_figure("x Flink per core", "x", per_core / q.flink_per_core);
            }
            return m;
          }};
}

} // namespace

std::vector<workload> nexmark_workloads() {
  std::vector<workload> out;
  for (const auto& q : queries)
    out.push_back({std::string{"nexmark-"} + q.name,
                   std::string{"Nexmark "} + q.name + ", " + q.what
                     + ": 10 M generated events to a blackhole, beside the generator alone",
                   {at_parallelism(q, "events", 2, true), at_parallelism(q, q.name, 1, false),
                    at_parallelism(q, q.name, 2, false)}});
  return out;
}

} // namespace bench
