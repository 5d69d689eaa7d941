#pragma once

/// Shared pieces of sluice-bench: options, the result of one measurement, the workloads and the
/// helpers that time a run and read its CPU time, memory and clocks.

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>

#include "sluice/error.hpp"
#endif

namespace bench {

/// Command-line options.
struct options {
  bool quick = false;   ///< small sizes: a smoke run for the test suite (< 20 s)
  bool json = false;    ///< print only JSON to stdout
  std::string json_out; ///< also write the JSON document to this file
  std::string workload; ///< run only this workload (empty: all)
  std::string group;    ///< run only the workloads named "<group>-..." (empty: all)
  std::string variant;  ///< run only this variant of each workload (empty: all)
  double scale = 1.0;   ///< multiplies every record count
  int repeat = 1;       ///< runs per variant; the median by records/s is reported
  int timeout_s = 120;  ///< a measurement that runs longer than this is killed
  int quiet_wait_s = 0; ///< wait up to this long for other processes to go quiet first
  /// Runtime settings that differ from the defaults (the defaults are what the targets mean).
  long flush_delay_us = -1;
  long batch_size = -1;
  long input_buffer = -1;
  long input_buffer_limit = -1;
  long workers = -1;
  std::string scheduler; ///< "sharing" or "work_stealing" (empty: the runtime's choice)
  /// Rates of the latency runs, as fractions of the chain's measured maximum rate.
  std::vector<double> latency_fractions{0.5, 0.01};
  /// Records/s the recovery workload's sources produce (0: the workload's default).
  double recovery_rate = 0;
  /// The text file of the wc_text workload (empty: that workload is skipped).
  std::string text;
};

} // namespace bench

namespace sluice {
struct runtime_config;
} // namespace sluice

namespace bench {

/// The runtime configuration of Sluice variants: the defaults, except what the options change.
sluice::runtime_config runtime_config(const options& opt);

/// A figure a workload reports beside records/s: how long a checkpoint or a restore took.
struct figure {
  char name[40] = {};
  char unit[8] = {};
  double value = 0;
};

/// The outcome of one measurement, as a forked child reports it to the parent.
///
/// Plain data on purpose: it crosses a pipe as bytes.
struct measurement {
  bool ok = false;
  char error[512] = {};
  uint64_t records = 0;      ///< records that went through the workload
  double wall_s = 0;         ///< wall-clock time of the measured region
  double cpu_user_s = 0;     ///< getrusage user time over the measured region (all threads)
  double cpu_sys_s = 0;      ///< getrusage system time over the measured region
  uint64_t rss_start_kb = 0; ///< VmRSS of the child before the workload was set up
  uint64_t peak_rss_kb = 0;  ///< VmHWM of the child after the run: its peak resident set
  /// The most RssAnon (heap, stacks: no mapped files) sampled, if variant::samples_memory.
  uint64_t peak_anon_kb = 0;
  uint64_t checksum = 0; ///< the same for every variant of a workload, or a bug
  /// CPU used by other processes on the machine during the measured region, in cores (from
  /// /proc/stat minus our own getrusage): a figure taken on a busy machine means little.
  double background_cores = 0;
  // Latency runs only.
  double target_rate = 0; ///< records/s the source was limited to
  uint64_t latency_samples = 0;
  double p50_us = 0;
  double p90_us = 0;
  double p99_us = 0;
  double p999_us = 0;
  double max_us = 0;
  // Workloads that time something other than throughput (checkpoints, restores).
  static constexpr int max_figures = 16;
  figure figures[max_figures] = {};
  int figure_count = 0;

  /// Adds a figure (ignored past max_figures; names and units are cut to fit).
  void add_figure(const char* name, const char* unit, double value);

  [[nodiscard]] double records_per_s() const { return wall_s > 0 ? records / wall_s : 0; }
  [[nodiscard]] double cpu_s() const { return cpu_user_s + cpu_sys_s; }
  [[nodiscard]] double cpu_s_per_million() const {
    return records > 0 ? cpu_s() / (static_cast<double>(records) / 1e6) : 0;
  }
};

/// One variant of a workload: the Sluice pipeline or a reference doing the same work.
struct variant {
  std::string name;        ///< "sluice", "bare_loop", "bare_caf", ...
  std::string description; ///< one line for the table
  bool reference = false;  ///< a reference the Sluice variants are compared with
  /// Runs in a forked child; sets up, then times the work with `timed`.
  std::function<measurement(const options&)> run;
  /// A variant that takes long at full size runs at least this long before the timeout kills
  /// it (unless --timeout 0 turned timeouts off); `run` sees the timeout in force.
  int min_timeout_s = 0;
  /// For a reference: whether the Sluice variants' ratios are taken against it. A reference
  /// that does other work (kcat producing only, or consuming only) is shown for scale only.
  bool in_ratios = true;
  /// Samples the child's anonymous memory while it runs (`measurement::peak_anon_kb`): a
  /// thread reading /proc every 5 ms, so not for variants that measure CPU at light load.
  bool samples_memory = false;
};

/// A workload: what it does, and its variants.
struct workload {
  std::string name;
  std::string description;
  std::vector<variant> variants;
  /// Runs in the parent before the first variant, when set: sets up what every variant needs
  /// (a Kafka broker, filled topics). Returns why the workload cannot run (its variants are
  /// then reported skipped, not failed), or an empty string.
  std::function<std::string(const options&)> prepare = {};
};

/// The workloads, each defined in its own .cpp; `all_workloads` lists them in run order.
workload chain_workload();
workload latency_workload(const options& opt);
workload light_load_workload();
workload shuffle_workload();
workload timers_workload();
workload enrichment_workload();
std::vector<workload> window_workloads();
workload wordcount_workload();
workload wordcount_text_workload();
workload wordcount_state_workload(const options& opt);
workload checkpoint_workload(const options& opt);
workload restore_workload(const options& opt);
workload recovery_workload(const options& opt);
workload retention_workload(const options& opt);
workload kafka_passthrough_workload(const options& opt);
workload kafka_wordcount_workload(const options& opt);
workload kafka_latency_workload(const options& opt);
workload cluster_workload();
std::vector<workload> nexmark_workloads();
std::vector<workload> all_workloads(const options& opt);

/// Where measurement child `pid` keeps LMDB state: /tmp/sluice-bench-<pid>. The parent removes
/// it once the child has ended, however it ended (a killed child cannot clean up).
std::string child_state_dir(pid_t pid);

/// The state directory of the calling measurement child.
std::string child_state_dir();

/// Bytes of LMDB data files (data.mdb) under `dir`, as allocated on disk.
uint64_t lmdb_bytes(const std::string& dir);

/// Resource usage at one instant: wall clock and process CPU time.
struct usage_point {
  std::chrono::steady_clock::time_point wall;
  double user_s = 0;
  double sys_s = 0;
  double machine_busy_s = 0; ///< non-idle CPU time of the whole machine (/proc/stat)

  static usage_point now();
};

/// Fills the timing and CPU fields of `m` for the region between `start` and now.
void finish_measurement(measurement& m, const usage_point& start);

/// Times `body()` (which returns the checksum) over `records` records.
template <class F>
measurement timed(uint64_t records, F&& body) {
  measurement m;
  m.records = records;
  auto start = usage_point::now();
  m.checksum = body();
  finish_measurement(m, start);
  m.ok = true;
  return m;
}

/// A failed measurement carrying `what`.
measurement failed(const std::string& what);

/// Runs pipeline `p` on runtime `rt`, timed over `records` records; the checksum is what
/// `checksum()` reads after the run. A run that fails is a failed measurement.
template <class Runtime, class Pipeline, class F>
measurement timed_run(Runtime& rt, Pipeline& p, uint64_t records, F&& checksum) {
  std::string error;
  auto m = timed(records, [&] {
    if (auto err = rt.run(p))
      error = sluice::describe(err);
    return checksum();
  });
  return error.empty() ? m : failed(error);
}

/// CPU used by the whole machine over `window`, in cores (from /proc/stat).
double machine_load(std::chrono::milliseconds window);

/// A field of /proc/self/status in kB (VmRSS, VmHWM), or 0.
uint64_t proc_status_kb(const char* field);

/// Nanoseconds of the steady clock.
inline int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
           std::chrono::steady_clock::now().time_since_epoch())
    .count();
}

/// The clock of latency stamps: the TSC where there is one (about 9 ns a read here, against
/// 20 ns for steady_clock: the source stamps every record), else steady_clock nanoseconds.
/// Convert tick differences with `stamp_ticks_per_ns`.
inline int64_t stamp_now() {
#if defined(__x86_64__) || defined(__i386__)
  return static_cast<int64_t>(__rdtsc());
#else
  return now_ns();
#endif
}

/// Ticks of `stamp_now` per nanosecond, measured against steady_clock over `window`.
double stamp_ticks_per_ns(std::chrono::milliseconds window);

/// A pair of readings of both clocks, to calibrate one against the other over a long interval.
struct clock_pair {
  int64_t ns = now_ns();
  int64_t ticks = stamp_now();
};

inline double ticks_per_ns(const clock_pair& a, const clock_pair& b) {
  return b.ns > a.ns ? static_cast<double>(b.ticks - a.ticks) / static_cast<double>(b.ns - a.ns)
                     : 1.0;
}

/// Scales a default record count by the options (quick sizes are passed separately).
uint64_t sized(const options& opt, uint64_t full, uint64_t quick);

/// splitmix64: a deterministic, cheap pseudo-random sequence for generated data.
inline uint64_t mix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

/// A log-linear latency histogram (HdrHistogram-like: 2^sub_bits linear sub-buckets per power
/// of two, so a reported quantile is within 1/64 of the true value). Records non-negative values
/// in any unit (the latency runs record clock ticks).
class histogram {
public:
  static constexpr int sub_bits = 6;

  histogram();
  void record(int64_t value);
  void merge(const histogram& other);
  [[nodiscard]] uint64_t count() const { return count_; }
  /// The value at quantile q (0..1): the upper bound of its bucket, at most the maximum.
  [[nodiscard]] double quantile(double q) const;
  [[nodiscard]] int64_t max() const { return max_; }

private:
  std::vector<uint64_t> buckets_;
  uint64_t count_ = 0;
  int64_t max_ = 0;
};

/// The measured outcome of one variant: the median of `runs` runs by records/s (for latency
/// variants: by p99).
struct variant_result {
  std::string name;
  std::string description;
  bool reference = false;
  bool in_ratios = true; ///< see variant::in_ratios
  std::string skipped;   ///< why the variant did not run (then m.ok is false), or empty
  int runs = 0;
  measurement m;
  std::vector<double> all_rates;  ///< records/s of every run, to judge the spread
  std::vector<double> all_p99_us; ///< p99 latency of every run (latency variants)
  /// Every run's value of each figure of `m`; `m.figures` holds the median of each.
  std::vector<std::vector<double>> figure_runs;
};

struct workload_result {
  std::string name;
  std::string description;
  std::vector<variant_result> variants;
  bool checksums_agree = true;
};

/// Where and how the benchmark ran.
struct machine_info {
  unsigned cores = 0;
  std::string cpu_model;
  std::string kernel;
  std::string compiler;
  std::string caf_version;
  bool optimized = false; ///< built with NDEBUG
  std::string allocator;  ///< the shared object malloc comes from (libjemalloc.so.2, libc.so.6)
};

machine_info describe_machine();

/// The JSON document of a run.
std::string to_json(const machine_info& machine, const options& opt,
                    const std::vector<workload_result>& results);

/// The human-readable table of a run.
std::string to_table(const machine_info& machine, const options& opt,
                     const std::vector<workload_result>& results);

/// The maximum rate of the 10-stage chain measured earlier in this run (records/s), or 0.
double& measured_chain_max_rate();

} // namespace bench
