// Workloads "checkpoint" and "restore": keyed state of 10^5 to 10^7 integer keys in LMDB.
//
//   generate(index) (p=1) -> key_by(key of index) -> keyed process: value_state count (p=2) -> sink
//
// Record i updates (or, in the warm-up, reads) one key's count; which key, and the count it must
// then see, follow from i alone (`keyspace`), so every record checks the state it finds: a count
// lost or applied twice across a checkpoint, a kill or a restore fails the measurement.
//
// "checkpoint": a first job loads every key once and ends; its final checkpoint is the full one
// (every key changed). A second job restores that state, reads back as many keys as the overlay
// holds (so it holds them as a job that ran through its keys does), then updates 1000 keys over
// and over; its checkpoints every second are the steady-state ones (1000 keys changed).
//
// "restore": a child process loads every key, then goes on updating all keys in turn while
// checkpoints are taken every second; once a checkpoint covering every key has completed it is
// killed with SIGKILL, and a new runtime over the same state directory is timed until it is back
// up (every instance of the keyed operator has processed a record with the count restored).

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "sluice/all.hpp"

#include "bench.hpp"
#include "checkpoint_watch.hpp"

namespace bench {

namespace {

using namespace std::chrono_literals;

constexpr uint32_t keyed_parallelism = 2;

/// Keys updated over and over in the steady state of "checkpoint".
constexpr uint64_t hot_keys = 1000;

/// Instances of the job: the source, the keyed operator's and the sink.
constexpr size_t job_instances = 1 + keyed_parallelism + 1;

/// Which key record i touches, whether it updates it, and the count it must then see.
///
/// Records 0..keys-1 load every key once (count 1), in the order of a permutation of the key
/// space so that neighbouring records hit unrelated keys. Then, with `hot` 0, the permutation
/// repeats: record i updates key perm(i mod keys) to i / keys + 1. With `hot` > 0, the next
/// `warm` records read keys without changing them, and the rest update the first `hot` keys of
/// the permutation in turn.
struct keyspace {
  uint64_t keys = 1;
  uint64_t warm = 0;
  uint64_t hot = 0;

  /// A prime above any key count: x -> x * multiplier mod keys is a permutation.
  static constexpr uint64_t multiplier = 2654435761u;

  [[nodiscard]] uint64_t perm(uint64_t x) const { return (x % keys) * multiplier % keys; }

  [[nodiscard]] uint64_t key(uint64_t i) const {
    if (i < keys || hot == 0)
      return perm(i);
    if (i < keys + warm)
      return perm(i - keys);
    return perm((i - keys - warm) % hot);
  }

  [[nodiscard]] bool writes(uint64_t i) const { return hot == 0 || i < keys || i >= keys + warm; }

  /// The key's count after record i (for a read, the count it reads).
  [[nodiscard]] int64_t expected(uint64_t i) const {
    if (hot == 0)
      return static_cast<int64_t>(i / keys + 1);
    if (i < keys + warm)
      return 1;
    return static_cast<int64_t>(2 + (i - keys - warm) / hot);
  }
};

struct alignas(64) per_instance {
  std::atomic<int64_t> first_ns{0}; ///< when the instance had processed its first record
  std::atomic<uint64_t> first_index{0};
  std::atomic<uint64_t> processed{0};
};

/// What the operators of one job report to the measurement, bypassing the runtime.
struct probe {
  alignas(64) std::atomic<uint64_t> source_index{0}; ///< records the source has generated
  per_instance instances[keyed_parallelism];
  alignas(64) std::atomic<uint64_t> mismatches{0};
  std::atomic<uint64_t> first_mismatch{0}; ///< index of a record that saw a wrong count

  [[nodiscard]] uint64_t processed() const {
    uint64_t n = 0;
    for (const auto& i : instances)
      n += i.processed.load();
    return n;
  }

  [[nodiscard]] bool all_started() const {
    return std::all_of(std::begin(instances), std::end(instances),
                       [](const auto& i) { return i.first_ns.load() > 0; });
  }
};

/// The keyed operator: counts per key in a value_state and checks every count it sees.
struct counter {
  keyspace ks;
  std::shared_ptr<probe> pr;
  std::optional<sluice::value_state<uint64_t, int64_t>> count;
  uint64_t processed = 0;

  void process(const uint64_t& i, sluice::keyed_context<uint64_t, uint64_t>& ctx) {
    if (!count)
      count.emplace(ctx.value<int64_t>("count"));
    int64_t seen = count->value_or(0);
    if (ks.writes(i))
      count->update(++seen);
    if (seen != ks.expected(i) && pr->mismatches.fetch_add(1) == 0)
      pr->first_mismatch = i;
    auto& me = pr->instances[ctx.info().index % keyed_parallelism];
    me.processed.store(++processed, std::memory_order_relaxed);
    if (processed == 1) {
      me.first_index = i;
      me.first_ns = now_ns();
    }
  }
};

struct discard {
  using input_type = uint64_t;
  using output_type = sluice::no_output;

  void on_batch(std::vector<sluice::record<uint64_t>>&, sluice::context<sluice::no_output>&) {}
};

/// The job; runs that share a state directory must build it with the same pipeline name.
void build(sluice::pipeline& p, const keyspace& ks, std::optional<uint64_t> count,
           const std::shared_ptr<probe>& pr) {
  p.source(sluice::generate<uint64_t>(
             [pr](uint64_t i) {
               pr->source_index.store(i + 1, std::memory_order_relaxed);
               return i;
             },
             {.count = count}))
    .key_by([ks](const uint64_t& i) { return ks.key(i); })
    .process<uint64_t>(counter{ks, pr, std::nullopt, 0})
    .parallelism(keyed_parallelism)
    .sink(discard{});
}

sluice::runtime_config lmdb_config(const options& opt, std::chrono::milliseconds interval) {
  auto cfg = runtime_config(opt);
  cfg.state = sluice::state_backend::lmdb;
  cfg.state_dir = child_state_dir();
  cfg.checkpoint_interval = interval;
  return cfg;
}

std::string pipeline_dir(const sluice::runtime_config& cfg, const std::string& pipeline) {
  return sluice::pipeline_state_directory(cfg, pipeline);
}

/// An error if the operators saw a wrong count, else empty.
std::string check(const probe& pr, const char* when) {
  auto n = pr.mismatches.load();
  if (n == 0)
    return {};
  return std::string{when} + ": " + std::to_string(n) + " records saw a wrong count (first: record "
         + std::to_string(pr.first_mismatch.load()) + ")";
}

double ms(int64_t ns) {
  return static_cast<double>(ns) / 1e6;
}

double median(std::vector<double> v) {
  if (v.empty())
    return 0;
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

/// Waits until `done()` or the job ended or `timeout`; an error text unless `done()`.
template <class F>
std::string wait_until(sluice::job& job, F done, std::chrono::seconds timeout, const char* what) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (auto ended = job.wait_for(1ms))
      return std::string{"the job ended while waiting for "} + what + ": "
             + (*ended ? sluice::describe(*ended) : std::string{"no error"});
    if (std::chrono::steady_clock::now() > deadline)
      return std::string{"timed out waiting for "} + what;
  }
  return {};
}

// ----- checkpoint -----------------------------------------------------------------------------

struct checkpoint_sizes {
  uint64_t keys;
  std::chrono::milliseconds interval;
  size_t steady_samples;
};

checkpoint_sizes checkpoint_plan(const options& opt, uint64_t full, uint64_t quick) {
  return {sized(opt, full, quick), opt.quick ? 100ms : 1000ms, opt.quick ? size_t{2} : size_t{5}};
}

measurement run_checkpoint(const options& opt, checkpoint_sizes plan) {
  const std::string name = "checkpoint";
  // Phase 1 runs with checkpoints so far apart that only the final one is taken, and without
  // one-instance recovery: its retention would ask for checkpoints as the retained input grows
  // (runtime_config::retention_limit), and hold that input in memory beside the checkpoint.
  auto cfg = lmdb_config(opt, 24h);
  cfg.recovery = false;
  keyspace ks;
  ks.keys = plan.keys;
  ks.hot = std::min(hot_keys, plan.keys);
  // As many keys as the overlays hold without spilling: a job that has run through its keys
  // has its overlays full of clean entries, and every checkpoint walks them.
  ks.warm = std::min<uint64_t>(plan.keys, cfg.state_overlay_entries * keyed_parallelism * 9 / 10);
  auto pr = std::make_shared<probe>();
  checkpoint_watch watch{pipeline_dir(cfg, name), &pr->source_index};

  measurement m;
  int64_t load_end_ns = 0;
  {
    sluice::runtime rt{cfg};
    sluice::pipeline p{name};
    build(p, ks, plan.keys, pr);
    auto start = usage_point::now();
    auto err = rt.run(p);
    load_end_ns = now_ns();
    if (err)
      return failed("loading: " + sluice::describe(err));
    finish_measurement(m, start);
    m.records = plan.keys;
  }
  if (auto e = check(*pr, "loading"); !e.empty())
    return failed(e);
  auto full = watch.completed();
  if (full.size() != 1 || !full.back().timed())
    return failed("loading: expected one timed checkpoint, saw " + std::to_string(full.size()));
  auto state_bytes = lmdb_bytes(cfg.state_dir);

  // Phase 2: restore, warm the overlays, then update `hot` keys; checkpoints every interval.
  cfg.checkpoint_interval = plan.interval;
  cfg.recovery = true;
  std::vector<double> e2e, write, align, apply;
  auto timeout = std::chrono::seconds{std::max(opt.timeout_s, 10)};
  {
    sluice::runtime rt{cfg};
    sluice::pipeline p{name};
    build(p, ks, std::nullopt, pr);
    auto job = rt.start(p);
    if (!job)
      return failed("steady state: " + sluice::describe(job.error()));
    auto deadline = std::chrono::steady_clock::now() + timeout;
    std::string error;
    size_t seen = 1; // the full checkpoint
    while (e2e.size() < plan.steady_samples && error.empty()) {
      if (std::chrono::steady_clock::now() > deadline) {
        error = "timed out waiting for steady-state checkpoints";
        break;
      }
      if (auto ended = job->wait_for(0ms)) {
        error = "the job ended: " + (*ended ? sluice::describe(*ended) : std::string{"no error"});
        break;
      }
      if (watch.wait_for_more(seen, 50ms) <= seen)
        continue;
      auto all = watch.completed();
      auto c = all[seen];
      seen = all.size();
      // Only checkpoints triggered after the warm-up, so the overlays are full.
      if (!c.timed() || c.source_index < ks.keys + ks.warm)
        continue;
      // The instances apply a completed checkpoint when they hear of it; ask until all did.
      int64_t applied_ns = 0;
      int64_t w = 0, a = 0;
      while (applied_ns == 0 && std::chrono::steady_clock::now() < deadline) {
        auto stats = job->inspect();
        bool all_applied = !stats.empty();
        for (const auto& s : stats) {
          all_applied = all_applied && s.checkpoint_completed >= c.id;
          if (s.checkpoint_taken == c.id) {
            w = std::max(w, s.checkpoint_write_ns);
            a = std::max(a, s.checkpoint_alignment_ns);
          }
        }
        if (all_applied)
          applied_ns = now_ns();
      }
      if (applied_ns == 0) {
        error = "timed out waiting for the instances to apply checkpoint " + std::to_string(c.id);
        break;
      }
      e2e.push_back(c.duration_ms());
      write.push_back(ms(w));
      align.push_back(ms(a));
      apply.push_back(ms(applied_ns - c.complete_ns));
    }
    job->cancel();
    (void)job->wait();
    if (!error.empty())
      return failed("steady state: " + error);
  }
  if (auto e = check(*pr, "steady state"); !e.empty())
    return failed(e);
  m.checksum = 0; // the counts are checked record by record instead
  m.ok = true;
  m.add_figure("load_keys_per_s", "k/s", m.records_per_s() / 1e3);
  m.add_figure("full_ckpt", "ms", full.back().duration_ms());
  m.add_figure("full_ckpt_apply", "ms", ms(load_end_ns - full.back().complete_ns));
  m.add_figure("steady_ckpt", "ms", median(e2e));
  m.add_figure("steady_write", "ms", median(write));
  m.add_figure("steady_align", "ms", median(align));
  m.add_figure("steady_apply", "ms", median(apply));
  m.add_figure("state_on_disk", "MB", static_cast<double>(state_bytes) / (1 << 20));
  return m;
}

// ----- restore --------------------------------------------------------------------------------

/// When the child that built the state is killed.
enum class kill_moment {
  /// As soon as the checkpoint covering every key completed: the instances have not applied
  /// its changes to their completed state yet, so the restart must.
  at_completion,
  /// 300 ms after every instance applied it, between two checkpoints: the restart only drops
  /// what changed since.
  between,
};

/// What the child that builds the state reports before it is killed.
struct build_report {
  bool ok = false;
  char error[400] = {};
  uint64_t checkpoint = 0;   ///< the checkpoint covering every key
  uint64_t source_index = 0; ///< records generated before it was triggered (at least)
  uint64_t last_records = 0; ///< records between its trigger and the one before (about)
  double build_s = 0;        ///< from the child's start to that checkpoint's completion
};

/// In the child to be killed: runs the job until a checkpoint that covers every key completed,
/// reports it on `fd`, and goes on running until the parent kills it.
[[noreturn]] void build_state(const options& opt, const sluice::runtime_config& cfg,
                              const std::string& name, const keyspace& ks, kill_moment moment,
                              int fd) {
  if (opt.timeout_s > 0)
    alarm(static_cast<unsigned>(opt.timeout_s)); // alarms are not inherited across fork
  build_report r;
  auto start = now_ns();
  try {
    auto pr = std::make_shared<probe>();
    checkpoint_watch watch{pipeline_dir(cfg, name), &pr->source_index};
    sluice::runtime rt{cfg};
    sluice::pipeline p{name};
    build(p, ks, std::nullopt, pr);
    auto job = rt.start(p);
    if (!job)
      throw std::runtime_error(sluice::describe(job.error()));
    // The source index sampled at a trigger may already include records emitted after that
    // checkpoint's barrier; it is certainly below the index at the next trigger. So the first
    // checkpoint triggered after one that saw every key generated covers every key.
    std::optional<checkpoint_watch::checkpoint> passed, covering;
    auto error = wait_until(
      *job,
      [&] {
        watch.wait_for_more(0, 5ms);
        for (const auto& c : watch.completed()) {
          if (!passed && c.timed() && c.source_index >= ks.keys)
            passed = c;
          else if (passed && c.id > passed->id && !covering)
            covering = c;
        }
        return covering.has_value() || pr->mismatches > 0;
      },
      std::chrono::seconds{std::max(opt.timeout_s, 10)}, "a checkpoint covering every key");
    if (error.empty() && moment == kill_moment::between)
      error = wait_until(
        *job,
        [&] {
          auto stats = job->inspect();
          return stats.size() == job_instances
                 && std::all_of(stats.begin(), stats.end(), [&](const auto& s) {
                      return s.checkpoint_completed >= covering->id;
                    });
        },
        std::chrono::seconds{std::max(opt.timeout_s, 10)}, "the instances to apply it");
    if (error.empty())
      error = check(*pr, "building the state");
    if (!error.empty())
      throw std::runtime_error(error);
    r.ok = true;
    r.last_records = covering->source_index - passed->source_index;
    r.checkpoint = covering->id;
    r.source_index = passed->source_index;
    r.build_s = static_cast<double>(covering->complete_ns - start) / 1e9;
    (void)!write(fd, &r, sizeof r);
    for (;;)
      pause(); // the job runs on until SIGKILL
  } catch (const std::exception& e) {
    std::snprintf(r.error, sizeof r.error, "%s", e.what());
  }
  (void)!write(fd, &r, sizeof r);
  _exit(1);
}

struct restore_sizes {
  uint64_t keys;
  std::chrono::milliseconds interval;
  kill_moment moment;
  std::chrono::milliseconds kill_after;
};

restore_sizes restore_plan(const options& opt, uint64_t full, uint64_t quick, kill_moment moment) {
  auto after = moment == kill_moment::at_completion ? 0ms : opt.quick ? 20ms : 300ms;
  return {sized(opt, full, quick), opt.quick ? 100ms : 1000ms, moment, after};
}

measurement run_restore(const options& opt, restore_sizes plan) {
  const std::string name = "restore";
  auto cfg = lmdb_config(opt, plan.interval);
  keyspace ks;
  ks.keys = plan.keys;

  int fds[2];
  if (pipe(fds) != 0)
    return failed(std::string{"pipe: "} + std::strerror(errno));
  auto pid = fork(); // no thread and no actor system exists here yet
  if (pid < 0)
    return failed(std::string{"fork: "} + std::strerror(errno));
  if (pid == 0) {
    close(fds[0]);
    build_state(opt, cfg, name, ks, plan.moment, fds[1]);
  }
  close(fds[1]);
  build_report r;
  size_t got = 0;
  while (got < sizeof r) {
    auto n = read(fds[0], reinterpret_cast<char*>(&r) + got, sizeof r - got);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break;
    got += static_cast<size_t>(n);
  }
  close(fds[0]);
  if (got == sizeof r && r.ok && plan.kill_after.count() > 0)
    std::this_thread::sleep_for(plan.kill_after); // let it change state past the checkpoint
  kill(pid, SIGKILL);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (got != sizeof r)
    return failed("the child building the state ended without a report");
  if (!r.ok)
    return failed(std::string{"building the state: "} + r.error);
  auto state_bytes = lmdb_bytes(cfg.state_dir);

  // The restart: timed from the runtime's construction (the actor system's start included).
  auto pr = std::make_shared<probe>();
  checkpoint_watch watch{pipeline_dir(cfg, name), &pr->source_index};
  measurement m;
  auto start = usage_point::now();
  auto t0 = now_ns();
  int64_t runtime_ns = 0, started_ns = 0, up_ns = 0, checkpointed_ns = 0;
  {
    sluice::runtime rt{cfg};
    runtime_ns = now_ns();
    sluice::pipeline p{name};
    build(p, ks, std::nullopt, pr);
    auto job = rt.start(p);
    if (!job)
      return failed("restarting: " + sluice::describe(job.error()));
    started_ns = now_ns();
    auto timeout = std::chrono::seconds{std::max(opt.timeout_s, 10)};
    auto error = wait_until(
      *job, [&] { return pr->all_started(); }, timeout, "every instance to process a record");
    for (const auto& i : pr->instances)
      up_ns = std::max(up_ns, i.first_ns.load());
    // Then the restored job must also complete a checkpoint of its own.
    if (error.empty())
      error = wait_until(
        *job, [&] { return watch.wait_for_more(0, 5ms) > 0; }, timeout,
        "a checkpoint after the restore");
    if (error.empty())
      checkpointed_ns = watch.completed().front().complete_ns;
    job->cancel();
    (void)job->wait();
    finish_measurement(m, start);
    if (!error.empty())
      return failed("restarting: " + error);
  }
  m.records = pr->processed();
  if (auto e = check(*pr, "after the restore"); !e.empty())
    return failed(e);
  // The source resumed from the checkpoint, not from the beginning: the counts checked above
  // came from the restored state.
  for (const auto& i : pr->instances)
    if (i.first_index.load() < r.source_index)
      return failed("after the restore the job started over at record "
                    + std::to_string(i.first_index.load()) + ", before checkpoint "
                    + std::to_string(r.checkpoint) + " (record " + std::to_string(r.source_index)
                    + ")");
  if (watch.baseline() < r.checkpoint)
    return failed("the restarted job found checkpoint " + std::to_string(watch.baseline())
                  + " completed, not " + std::to_string(r.checkpoint));
  m.checksum = 0; // the counts are checked record by record instead
  m.ok = true;
  m.add_figure("back_up", "s", static_cast<double>(up_ns - t0) / 1e9);
  m.add_figure("runtime_ctor", "ms", ms(runtime_ns - t0));
  m.add_figure("start", "ms", ms(started_ns - runtime_ns));
  m.add_figure("first_records", "ms", ms(up_ns - started_ns));
  m.add_figure("first_ckpt_after", "s", static_cast<double>(checkpointed_ns - t0) / 1e9);
  m.add_figure("build", "s", r.build_s);
  m.add_figure("last_ckpt_records", "k", static_cast<double>(r.last_records) / 1e3);
  m.add_figure("state_on_disk", "MB", static_cast<double>(state_bytes) / (1 << 20));
  return m;
}

/// Loading 10^7 keys into LMDB takes a minute on the benchmark machine: more than the default
/// timeout allows on a busy machine.
int full_size_timeout(uint64_t keys) {
  return keys >= 5'000'000 ? 600 : 0;
}

std::string keys_text(uint64_t n) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3g", static_cast<double>(n));
  return buf;
}

} // namespace

workload checkpoint_workload(const options& opt) {
  workload w{"checkpoint",
             "keyed count of N integer keys in LMDB: the full checkpoint after loading every key, "
             "then steady-state checkpoints with 1000 keys changed",
             {}};
  for (auto [label, full, quick] : {std::tuple{"keys_1e5", 100'000ull, 2'000ull},
                                    std::tuple{"keys_1e6", 1'000'000ull, 10'000ull},
                                    std::tuple{"keys_1e7", 10'000'000ull, 50'000ull}}) {
    auto plan = checkpoint_plan(opt, full, quick);
    w.variants.push_back({label, keys_text(plan.keys) + " keys", false,
                          [plan](const options& o) { return run_checkpoint(o, plan); },
                          full_size_timeout(plan.keys)});
  }
  return w;
}

workload restore_workload(const options& opt) {
  workload w{"restore",
             "keyed count of N keys in LMDB killed with SIGKILL after a checkpoint: time until the "
             "restarted job processes records with its restored state",
             {}};
  for (auto [label, full, quick] :
       {std::tuple{"1e6", 1'000'000ull, 10'000ull}, std::tuple{"1e7", 10'000'000ull, 50'000ull}})
    for (auto moment : {kill_moment::at_completion, kill_moment::between}) {
      auto plan = restore_plan(opt, full, quick, moment);
      bool at = moment == kill_moment::at_completion;
      w.variants.push_back(
        {std::string{label} + (at ? "_ckpt" : "_mid"),
         keys_text(plan.keys)
           + (at ? " keys, killed as a checkpoint completed (its changes not yet applied)"
                 : " keys, killed between checkpoints (300 ms after the last was applied)"),
         false, [plan](const options& o) { return run_restore(o, plan); },
         full_size_timeout(plan.keys)});
    }
  return w;
}

} // namespace bench
