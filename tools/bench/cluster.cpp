// Workload "cluster": a keyed word count at parallelism 6 — generated words -> key_by(word) ->
// count -> sink, in streaming mode (every word updates its count and emits it; batch mode would
// pre-count before the shuffle, and little would cross) — run by three node processes of one
// cluster (sluice::cluster::run_node: Kafka forms the cluster and places the slots, records
// cross between nodes over CAF's BASP), with TLS between the nodes off and on, beside the same
// pipeline at parallelism 6 in one process, in the same run.
//
// On one machine over loopback this measures what the protocol costs (serializing batches,
// BASP, TLS, a node's own actor system), not scaling: the three nodes share the machine's
// cores, as the one process does. Two thirds of the words cross to another node at the key_by.
//
// The timed span is the same in every variant: from the first word generated (on any node) to
// the last count the sinks received; the cluster's forming before it (joining the Kafka group,
// placing, linking, spawning) is reported apart (`forming_s`). Its CPU is the nodes' whole
// processes, forming included. Every variant sums a hash of every (word, count): a count lost
// or doubled shows in the checksum.

#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "sluice/all.hpp"
#include "sluice/cluster/node.hpp"

#include "bench.hpp"
#include "kafka_broker.hpp"
#include "word_count.hpp"

namespace bench {

namespace {

constexpr uint32_t parallelism = 6;
constexpr int node_count = 3;
constexpr uint64_t vocabulary = 10'000;

/// What the processes of one measurement share (an anonymous shared mapping made before they
/// fork): per process, when it generated its first word and its sinks got their last count.
struct shared_clock {
  struct process {
    std::atomic<int64_t> first_ns{0};
    std::atomic<int64_t> last_ns{0};
    std::atomic<uint64_t> results{0};
    std::atomic<uint64_t> checksum{0};
    std::atomic<bool> first_taken{false};
  };
  process processes[node_count];
};

shared_clock* map_shared_clock() {
  void* memory =
    mmap(nullptr, sizeof(shared_clock), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (memory == MAP_FAILED)
    return nullptr;
  return new (memory) shared_clock{};
}

/// The sink: sums the checksum of every count and notes the time of the last.
struct clock_sink {
  using input_type = word_count;
  using output_type = sluice::no_output;

  shared_clock::process* process = nullptr;

  void on_batch(std::vector<sluice::record<word_count>>& records,
                sluice::context<sluice::no_output>&) {
    uint64_t sum = 0;
    for (const auto& r : records)
      sum += result_hash(r.value.first, r.value.second);
    process->checksum.fetch_add(sum, std::memory_order_relaxed);
    process->results.fetch_add(records.size(), std::memory_order_relaxed);
    auto now = now_ns();
    auto last = process->last_ns.load(std::memory_order_relaxed);
    while (now > last && !process->last_ns.compare_exchange_weak(last, now)) {
    }
  }
};

/// The word count, writing into `process`.
void build(sluice::pipeline& p, uint64_t words, shared_clock::process* process) {
  p.source(sluice::generate<std::string>(
             [process](uint64_t i) {
               if (!process->first_taken.load(std::memory_order_relaxed)
                   && !process->first_taken.exchange(true))
                 process->first_ns = now_ns();
               return "w" + std::to_string(mix64(i) % vocabulary);
             },
             {.count = words}))
    .parallelism(parallelism)
    .name("words")
    .key_by([](const std::string& w) { return w; })
    .count()
    .parallelism(parallelism)
    .name("count")
    .sink(clock_sink{process})
    .parallelism(parallelism)
    .name("sink");
}

uint64_t word_total(const options& opt) {
  return sized(opt, 20'000'000, 200'000);
}

/// The timed span and results of `processes` processes of `clock`, into `m`.
measurement span_of(const shared_clock& clock, int processes, uint64_t words) {
  measurement m;
  int64_t first = 0;
  int64_t last = 0;
  for (int n = 0; n < processes; ++n) {
    const auto& process = clock.processes[n];
    if (process.first_ns > 0 && (first == 0 || process.first_ns < first))
      first = process.first_ns;
    last = std::max<int64_t>(last, process.last_ns);
    m.checksum += process.checksum;
  }
  m.records = words;
  m.wall_s = static_cast<double>(last - first) / 1e9;
  m.ok = first > 0 && last > first;
  if (!m.ok)
    return failed("no word was counted");
  return m;
}

measurement run_one_process(const options& opt) {
  auto* clock = map_shared_clock();
  if (!clock)
    return failed(std::string{"mmap: "} + std::strerror(errno));
  auto words = word_total(opt);
  sluice::pipeline p{"cluster-reference"};
  build(p, words, &clock->processes[0]);
  auto config = runtime_config(opt);
  config.mode = sluice::execution_mode::streaming;
  auto start = usage_point::now();
  sluice::runtime rt{config};
  if (auto err = rt.run(p))
    return failed(sluice::describe(err));
  auto whole = usage_point::now();
  auto m = span_of(*clock, 1, words);
  if (!m.ok)
    return m;
  m.cpu_user_s = whole.user_s - start.user_s;
  m.cpu_sys_s = whole.sys_s - start.sys_s;
  auto whole_s = std::chrono::duration<double>(whole.wall - start.wall).count();
  m.background_cores =
    std::max(0.0, (whole.machine_busy_s - start.machine_busy_s) - m.cpu_s()) / whole_s;
  munmap(clock, sizeof(shared_clock));
  return m;
}

std::string file_text(const std::string& path) {
  std::stringstream s;
  s << std::ifstream{path}.rdbuf();
  return s.str();
}

/// Node `n` of the cluster of pipeline `name`, in this (forked) process: never returns.
[[noreturn]] void run_node_process(const options& opt, const std::string& name, int n,
                                   const std::string& dir, const std::string& certs, uint64_t words,
                                   shared_clock* clock) {
  std::string node(1, static_cast<char>('a' + n));
  if (!std::freopen((dir + "/node-" + node + ".log").c_str(), "w", stderr))
    _exit(3); // the parent reports the node failed, without its log
  sluice::pipeline p{name};
  build(p, words, &clock->processes[n]);
  auto config = runtime_config(opt);
  config.mode = sluice::execution_mode::streaming;
  std::vector<std::string> args{"node", "--sluice.node=" + node,
                                "--sluice.brokers=" + broker_bootstrap(),
                                "--sluice.min-nodes=" + std::to_string(node_count),
                                "--sluice.state-dir=" + dir + "/state-" + node};
  if (certs.empty()) {
    args.emplace_back("--sluice.tls=false");
  } else {
    args.push_back("--openssl.certificate=" + certs + "/" + node + ".pem");
    args.push_back("--openssl.key=" + certs + "/" + node + ".key");
    args.push_back("--openssl.cafile=" + certs + "/ca.pem");
  }
  std::vector<char*> argv;
  for (auto& a : args)
    argv.push_back(a.data());
  auto err = sluice::cluster::run_node(p, static_cast<int>(argv.size()), argv.data(), config, {});
  if (err)
    std::cerr << "bench node " << node << ": " << sluice::describe(err) << std::endl;
  std::fflush(stderr);
  _exit(err ? 1 : 0);
}

measurement run_three_nodes(const options& opt, bool tls) {
  auto* clock = map_shared_clock();
  if (!clock)
    return failed(std::string{"mmap: "} + std::strerror(errno));
  auto words = word_total(opt);
  auto dir = child_state_dir();
  std::error_code error;
  std::filesystem::create_directories(dir, error);
  if (error)
    return failed("cannot create " + dir + ": " + error.message());
  std::string certs;
  if (tls) {
    certs = dir + "/certs";
    auto [status, out] =
      run_command(source_dir() + "/tools/cluster-certs " + shell_quoted(certs) + " a b c 2>&1");
    if (status != 0)
      return failed("tools/cluster-certs: " + tail(out, 300));
  }
  // A pipeline of its own per measurement: its own group, slots and members topics.
  auto name = "bench-cluster-" + std::to_string(getpid());
  auto start = usage_point::now();
  auto started_ns = now_ns();
  std::vector<pid_t> nodes;
  for (int n = 0; n < node_count; ++n) {
    auto pid = fork(); // no thread and no actor system exists here
    if (pid < 0)
      return failed(std::string{"fork: "} + std::strerror(errno));
    if (pid == 0)
      run_node_process(opt, name, n, dir, certs, words, clock);
    nodes.push_back(pid);
  }
  std::string errors;
  for (int n = 0; n < node_count; ++n) {
    int status = 0;
    while (waitpid(nodes[n], &status, 0) < 0 && errno == EINTR) {
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      std::string node(1, static_cast<char>('a' + n));
      errors +=
        "node " + node + " failed: " + tail(file_text(dir + "/node-" + node + ".log"), 200) + "; ";
    }
  }
  auto whole = usage_point::now();
  if (!errors.empty())
    return failed(errors);
  auto m = span_of(*clock, node_count, words);
  if (!m.ok)
    return m;
  rusage nodes_usage{};
  getrusage(RUSAGE_CHILDREN, &nodes_usage);
  m.cpu_user_s = static_cast<double>(nodes_usage.ru_utime.tv_sec)
                 + static_cast<double>(nodes_usage.ru_utime.tv_usec) / 1e6;
  m.cpu_sys_s = static_cast<double>(nodes_usage.ru_stime.tv_sec)
                + static_cast<double>(nodes_usage.ru_stime.tv_usec) / 1e6;
  m.peak_rss_kb = static_cast<uint64_t>(nodes_usage.ru_maxrss); // the largest node's
  auto whole_s = std::chrono::duration<double>(whole.wall - start.wall).count();
  m.background_cores =
    std::max(0.0, (whole.machine_busy_s - start.machine_busy_s) - m.cpu_s()) / whole_s;
  int64_t first = 0;
  for (const auto& process : clock->processes)
    if (process.first_ns > 0 && (first == 0 || process.first_ns < first))
      first = process.first_ns;
  m.add_figure("forming_s", "s", static_cast<double>(first - started_ns) / 1e9);
  m.add_figure("whole_s", "s", whole_s);
  munmap(clock, sizeof(shared_clock));
  return m;
}

} // namespace

workload cluster_workload() {
  workload w{"cluster",
             "generated words -> key_by -> count (streaming) -> sink, all at p=6: three node "
             "processes of one cluster against one process",
             {
               {"one_process", "Sluice, one process, parallelism 6", true, run_one_process},
               {"three_nodes", "three node processes on loopback, TLS off", false,
                [](const options& opt) { return run_three_nodes(opt, false); }},
               {"three_nodes_tls", "three node processes on loopback, mutual TLS", false,
                [](const options& opt) { return run_three_nodes(opt, true); }},
             }};
  w.prepare = [](const options&) { return ensure_broker(); };
  return w;
}

} // namespace bench
