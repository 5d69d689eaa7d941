#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>

#include "sluice/config.hpp"

#include "bench.hpp"

namespace bench {

std::vector<workload> all_workloads(const options& opt) {
  std::vector<workload> all{chain_workload(),
                            latency_workload(opt),
                            light_load_workload(),
                            shuffle_workload(),
                            timers_workload(),
                            enrichment_workload(),
                            wordcount_workload(),
                            wordcount_text_workload(),
                            wordcount_state_workload(opt),
                            checkpoint_workload(opt),
                            restore_workload(opt),
                            recovery_workload(opt),
                            retention_workload(opt),
                            kafka_passthrough_workload(opt),
                            kafka_wordcount_workload(opt),
                            kafka_latency_workload(opt),
                            cluster_workload()};
  // The windows after the enrichment.
  auto windows = window_workloads();
  auto after =
    std::find_if(all.begin(), all.end(), [](const workload& w) { return w.name == "enrichment"; });
  all.insert(after + 1, std::make_move_iterator(windows.begin()),
             std::make_move_iterator(windows.end()));
  auto nexmark = nexmark_workloads();
  all.insert(all.end(), std::make_move_iterator(nexmark.begin()),
             std::make_move_iterator(nexmark.end()));
  return all;
}

void measurement::add_figure(const char* name, const char* unit, double value) {
  if (figure_count >= max_figures)
    return;
  auto& f = figures[figure_count++];
  std::snprintf(f.name, sizeof f.name, "%s", name);
  std::snprintf(f.unit, sizeof f.unit, "%s", unit);
  f.value = value;
}

std::string child_state_dir(pid_t pid) {
  return "/tmp/sluice-bench-" + std::to_string(pid);
}

std::string child_state_dir() {
  return child_state_dir(getpid());
}

uint64_t lmdb_bytes(const std::string& dir) {
  uint64_t total = 0;
  std::error_code ec;
  for (std::filesystem::recursive_directory_iterator i{dir, ec}, end; !ec && i != end;
       i.increment(ec)) {
    struct stat st {};
    if (i->path().filename() == "data.mdb" && ::stat(i->path().c_str(), &st) == 0)
      total += static_cast<uint64_t>(st.st_blocks) * 512;
  }
  return total;
}

namespace {

/// Non-idle CPU seconds of all cores since boot, from the first line of /proc/stat.
double machine_busy_seconds() {
  std::ifstream in{"/proc/stat"};
  std::string cpu;
  uint64_t user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0;
  in >> cpu >> user >> nice >> system >> idle >> iowait >> irq >> softirq >> steal;
  static const double hz = static_cast<double>(sysconf(_SC_CLK_TCK));
  return static_cast<double>(user + nice + system + irq + softirq + steal) / hz;
}

} // namespace

double machine_load(std::chrono::milliseconds window) {
  auto a = machine_busy_seconds();
  auto t0 = std::chrono::steady_clock::now();
  std::this_thread::sleep_for(window);
  auto b = machine_busy_seconds();
  auto dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return (b - a) / dt;
}

usage_point usage_point::now() {
  usage_point p;
  p.machine_busy_s = machine_busy_seconds();
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  p.wall = std::chrono::steady_clock::now();
  p.user_s = static_cast<double>(ru.ru_utime.tv_sec) + ru.ru_utime.tv_usec / 1e6;
  p.sys_s = static_cast<double>(ru.ru_stime.tv_sec) + ru.ru_stime.tv_usec / 1e6;
  return p;
}

void finish_measurement(measurement& m, const usage_point& start) {
  auto end = usage_point::now();
  m.wall_s = std::chrono::duration<double>(end.wall - start.wall).count();
  m.cpu_user_s = end.user_s - start.user_s;
  m.cpu_sys_s = end.sys_s - start.sys_s;
  if (m.wall_s > 0)
    m.background_cores =
      std::max(0.0, (end.machine_busy_s - start.machine_busy_s) - m.cpu_s()) / m.wall_s;
}

measurement failed(const std::string& what) {
  measurement m;
  m.ok = false;
  std::snprintf(m.error, sizeof m.error, "%s", what.c_str());
  return m;
}

uint64_t proc_status_kb(const char* field) {
  std::ifstream in{"/proc/self/status"};
  std::string line;
  auto prefix = std::string{field} + ":";
  while (std::getline(in, line))
    if (line.rfind(prefix, 0) == 0)
      return std::stoull(line.substr(prefix.size()));
  return 0;
}

uint64_t sized(const options& opt, uint64_t full, uint64_t quick) {
  auto base = opt.quick ? quick : full;
  return std::max<uint64_t>(1, static_cast<uint64_t>(std::llround(base * opt.scale)));
}

sluice::runtime_config runtime_config(const options& opt) {
  sluice::runtime_config cfg;
  if (opt.flush_delay_us >= 0)
    cfg.flush_delay = std::chrono::microseconds{opt.flush_delay_us};
  if (opt.batch_size > 0)
    cfg.batch_size = static_cast<size_t>(opt.batch_size);
  if (opt.input_buffer > 0)
    cfg.input_buffer = static_cast<size_t>(opt.input_buffer);
  if (opt.input_buffer_limit > 0)
    cfg.input_buffer_limit = static_cast<size_t>(opt.input_buffer_limit);
  if (opt.workers > 0)
    cfg.worker_threads = static_cast<size_t>(opt.workers);
  if (opt.scheduler == "sharing")
    cfg.scheduler = sluice::scheduler_policy::sharing;
  else if (opt.scheduler == "work_stealing")
    cfg.scheduler = sluice::scheduler_policy::work_stealing;
  return cfg;
}

double stamp_ticks_per_ns(std::chrono::milliseconds window) {
  clock_pair a;
  std::this_thread::sleep_for(window);
  clock_pair b;
  return ticks_per_ns(a, b);
}

double& measured_chain_max_rate() {
  static double rate = 0;
  return rate;
}

// Bucket layout: values below 2^sub_bits map to themselves; above, the bucket of v is its
// exponent (position of the top bit) times 2^sub_bits plus the next sub_bits bits.
histogram::histogram() : buckets_((64 - sub_bits + 1) << sub_bits, 0) {}

namespace {

constexpr int sub_bits = histogram::sub_bits;

size_t bucket_of(uint64_t v) {
  if (v < (1u << sub_bits))
    return v;
  int e = std::bit_width(v) - 1; // >= sub_bits
  auto sub = (v >> (e - sub_bits)) & ((1u << sub_bits) - 1);
  return (static_cast<size_t>(e - sub_bits + 1) << sub_bits) + sub;
}

double bucket_upper(size_t b) {
  if (b < (1u << sub_bits))
    return static_cast<double>(b);
  auto e = static_cast<int>(b >> sub_bits) + sub_bits - 1;
  auto sub = b & ((1u << sub_bits) - 1);
  auto base = std::ldexp(1.0, e) + std::ldexp(static_cast<double>(sub), e - sub_bits);
  return base + std::ldexp(1.0, e - sub_bits) - 1;
}

} // namespace

void histogram::record(int64_t value) {
  auto v = static_cast<uint64_t>(std::max<int64_t>(value, 0));
  ++buckets_[bucket_of(v)];
  ++count_;
  max_ = std::max(max_, value);
}

void histogram::merge(const histogram& other) {
  for (size_t i = 0; i < buckets_.size(); ++i)
    buckets_[i] += other.buckets_[i];
  count_ += other.count_;
  max_ = std::max(max_, other.max_);
}

double histogram::quantile(double q) const {
  if (count_ == 0)
    return 0;
  auto rank = static_cast<uint64_t>(std::ceil(q * static_cast<double>(count_)));
  rank = std::clamp<uint64_t>(rank, 1, count_);
  uint64_t seen = 0;
  for (size_t b = 0; b < buckets_.size(); ++b) {
    seen += buckets_[b];
    if (seen >= rank)
      return std::min(bucket_upper(b), static_cast<double>(max_));
  }
  return static_cast<double>(max_);
}

} // namespace bench
