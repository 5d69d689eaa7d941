// sluice-bench: throughput, CPU cost, memory and latency of Sluice pipelines, each beside a
// reference doing the same work in the same run (see docs/benchmarks.md).
//
// Every measurement runs in a forked child, before any actor system exists in it, so its peak
// RSS and its CPU time belong to that measurement alone.

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "bench.hpp"

namespace bench {

namespace {

void usage(std::ostream& os) {
  os << "usage: sluice-bench [--quick] [--workload NAME] [--variant NAME] [--json]\n"
        "                    [--json-out FILE] [--scale X] [--repeat N] [--timeout SECONDS]\n"
        "       sluice-bench nexmark [--query qN] [options as above]\n"
        "  nexmark           run the Nexmark workloads only (nexmark-q0 ... nexmark-q14)\n"
        "  --query qN        with nexmark: that query's workload only\n"
        "  --quick           small sizes (a smoke run, well under 20 s)\n"
        "  --workload NAME   run one workload:";
  for (const auto& w : all_workloads(options{}))
    os << ' ' << w.name;
  os << "\n"
        "  --variant NAME    run only this variant (sluice, bare_loop, bare_caf, ...)\n"
        "  --json            print only the JSON document to stdout\n"
        "  --json-out FILE   print the table and write the JSON document to FILE\n"
        "  --scale X         multiply every record count by X (default 1)\n"
        "  --repeat N        run each variant N times and report the median (default 1)\n"
        "  --flush-delay US  runtime flush delay in microseconds (default: the runtime's, 1000)\n"
        "  --batch-size N    runtime batch size in records (default: the runtime's, 1024)\n"
        "  --input-buffer N  runtime credit per input channel at the start (default: the\n"
        "                    runtime's, 4096)\n"
        "  --input-buffer-limit N  the most an input channel's credit grows to (default:\n"
        "                    the runtime's, 16384; the input buffer for fixed windows)\n"
        "  --scheduler P     sharing or work_stealing (default: the runtime's, work_stealing)\n"
        "  --latency-rates F,...  latency runs at these fractions of the chain's max rate\n"
        "                    (default 0.5,0.01; 0.5 is the issue's target)\n"
        "  --text FILE       the real text the wc_text workload counts (without it, that\n"
        "                    workload is skipped; tools/bench/make-corpus builds one)\n"
        "  --recovery-rate R the recovery workload's input rate in records/s (default 100000)\n"
        "  --workers N       runtime worker threads (default: the runtime's, one per core)\n"
        "  --quiet-wait S    before each measurement, wait up to S seconds for other\n"
        "                    processes to use less than 0.15 cores (default 0: don't wait)\n"
        "  --timeout S       kill a measurement that runs longer than S seconds (default 120;\n"
        "                    600 for the 1e7-key state workloads)\n";
}

bool parse(int argc, char** argv, options& opt) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&](const char* what) -> const char* {
      if (i + 1 >= argc) {
        std::cerr << "sluice-bench: " << a << " needs " << what << "\n";
        return nullptr;
      }
      return argv[++i];
    };
    try {
      if (a == "--quick") {
        opt.quick = true;
      } else if (a == "--json") {
        opt.json = true;
      } else if (a == "--json-out") {
        auto v = value("a file name");
        if (!v)
          return false;
        opt.json_out = v;
      } else if (a == "nexmark") {
        opt.group = a;
      } else if (a == "--query") {
        auto v = value("a query name");
        if (!v)
          return false;
        opt.workload = std::string{"nexmark-"} + v;
      } else if (a == "--workload") {
        auto v = value("a workload name");
        if (!v)
          return false;
        opt.workload = v;
      } else if (a == "--variant") {
        auto v = value("a variant name");
        if (!v)
          return false;
        opt.variant = v;
      } else if (a == "--text") {
        auto v = value("a file name");
        if (!v)
          return false;
        opt.text = v;
      } else if (a == "--scale") {
        auto v = value("a number");
        if (!v)
          return false;
        opt.scale = std::stod(v);
        if (!(opt.scale > 0)) {
          std::cerr << "sluice-bench: --scale must be positive\n";
          return false;
        }
      } else if (a == "--repeat") {
        auto v = value("a count");
        if (!v)
          return false;
        opt.repeat = std::stoi(v);
        if (opt.repeat < 1) {
          std::cerr << "sluice-bench: --repeat must be at least 1\n";
          return false;
        }
      } else if (a == "--quiet-wait") {
        auto v = value("seconds");
        if (!v)
          return false;
        opt.quiet_wait_s = std::stoi(v);
      } else if (a == "--timeout") {
        auto v = value("seconds");
        if (!v)
          return false;
        opt.timeout_s = std::stoi(v);
      } else if (a == "--flush-delay" || a == "--batch-size" || a == "--input-buffer"
                 || a == "--input-buffer-limit" || a == "--workers") {
        auto v = value("a number");
        if (!v)
          return false;
        auto n = std::stol(v);
        if (n < (a == "--flush-delay" ? 0 : 1)) {
          std::cerr << "sluice-bench: " << a << " is out of range\n";
          return false;
        }
        (a == "--flush-delay"          ? opt.flush_delay_us
         : a == "--batch-size"         ? opt.batch_size
         : a == "--input-buffer"       ? opt.input_buffer
         : a == "--input-buffer-limit" ? opt.input_buffer_limit
                                       : opt.workers) = n;
      } else if (a == "--scheduler") {
        auto v = value("sharing or work_stealing");
        if (!v)
          return false;
        opt.scheduler = v;
        if (opt.scheduler != "sharing" && opt.scheduler != "work_stealing") {
          std::cerr << "sluice-bench: --scheduler takes sharing or work_stealing\n";
          return false;
        }
      } else if (a == "--recovery-rate") {
        auto v = value("records per second");
        if (!v)
          return false;
        opt.recovery_rate = std::stod(v);
        if (!(opt.recovery_rate > 0)) {
          std::cerr << "sluice-bench: --recovery-rate must be positive\n";
          return false;
        }
      } else if (a == "--latency-rates") {
        auto v = value("fractions");
        if (!v)
          return false;
        opt.latency_fractions.clear();
        std::string s = v;
        size_t pos = 0;
        while (pos <= s.size()) {
          auto comma = s.find(',', pos);
          auto f = std::stod(s.substr(pos, comma - pos));
          if (!(f > 0)) {
            std::cerr << "sluice-bench: latency rates must be positive fractions\n";
            return false;
          }
          opt.latency_fractions.push_back(f);
          if (comma == std::string::npos)
            break;
          pos = comma + 1;
        }
      } else if (a == "--help" || a == "-h") {
        usage(std::cout);
        std::exit(0);
      } else {
        std::cerr << "sluice-bench: unknown option '" << a << "'\n";
        return false;
      }
    } catch (const std::exception&) {
      std::cerr << "sluice-bench: bad value for " << a << "\n";
      return false;
    }
  }
  return true;
}

/// Runs one variant in a forked child and returns what it measured.
measurement run_in_child(const variant& v, const options& opt) {
  int fds[2];
  if (pipe(fds) != 0)
    return failed(std::string{"pipe: "} + std::strerror(errno));
  std::cout.flush();
  std::cerr.flush();
  auto pid = fork();
  if (pid < 0)
    return failed(std::string{"fork: "} + std::strerror(errno));
  if (pid == 0) {
    close(fds[0]);
    auto child_opt = opt;
    if (child_opt.timeout_s > 0) {
      child_opt.timeout_s = std::max(child_opt.timeout_s, v.min_timeout_s);
      alarm(static_cast<unsigned>(child_opt.timeout_s));
    }
    auto rss_start = proc_status_kb("VmRSS");
    measurement m;
    uint64_t peak_anon_kb = 0;
    {
      // RssAnon, sampled: VmHWM also counts the pages of LMDB's mapped files, which the
      // kernel takes back when memory is short.
      std::atomic<bool> running{v.samples_memory};
      std::thread sampler{[&] {
        while (running.load()) {
          peak_anon_kb = std::max(peak_anon_kb, proc_status_kb("RssAnon"));
          std::this_thread::sleep_for(std::chrono::milliseconds{5});
        }
      }};
      try {
        m = v.run(child_opt);
      } catch (const std::exception& e) {
        m = failed(std::string{"exception: "} + e.what());
      }
      running = false;
      sampler.join();
    }
    m.rss_start_kb = rss_start;
    // A variant that runs its work in a process of its own reports that process's peak.
    m.peak_rss_kb = std::max(m.peak_rss_kb, proc_status_kb("VmHWM"));
    m.peak_anon_kb = peak_anon_kb;
    auto* p = reinterpret_cast<const char*>(&m);
    size_t left = sizeof m;
    while (left > 0) {
      auto w = write(fds[1], p, left);
      if (w <= 0)
        _exit(3);
      p += w;
      left -= static_cast<size_t>(w);
    }
    close(fds[1]);
    _exit(0);
  }
  close(fds[1]);
  measurement m;
  auto* p = reinterpret_cast<char*>(&m);
  size_t got = 0;
  while (got < sizeof m) {
    auto r = read(fds[0], p + got, sizeof m - got);
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0)
      break;
    got += static_cast<size_t>(r);
  }
  close(fds[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  std::error_code ignored;
  std::filesystem::remove_all(child_state_dir(pid), ignored);
  if (got != sizeof m) {
    if (WIFSIGNALED(status))
      return failed("the measurement was killed by signal " + std::to_string(WTERMSIG(status))
                    + (WTERMSIG(status) == SIGALRM ? " (timeout)" : ""));
    return failed("the measurement ended without a result (exit status "
                  + std::to_string(WEXITSTATUS(status)) + ")");
  }
  return m;
}

/// Waits until other processes use less than 0.15 cores (over 1 s), at most quiet_wait_s.
void wait_for_quiet(const options& opt) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(opt.quiet_wait_s);
  while (std::chrono::steady_clock::now() < deadline)
    if (machine_load(std::chrono::milliseconds(1000)) < 0.15)
      return;
  if (!opt.json)
    std::cerr << " (machine still busy after " << opt.quiet_wait_s << " s)";
}

/// One run of `v`, after waiting for the machine to be quiet if asked.
measurement run_once(const workload& w, const variant& v, int round, const options& opt) {
  if (!opt.json)
    std::cerr << "  " << w.name << "/" << v.name << " run " << (round + 1) << "/" << opt.repeat
              << "..." << std::flush;
  if (opt.quiet_wait_s > 0)
    wait_for_quiet(opt);
  auto m = run_in_child(v, opt);
  if (!opt.json)
    std::cerr << (m.ok ? " ok\n" : " FAILED: ") << (m.ok ? "" : m.error) << (m.ok ? "" : "\n");
  return m;
}

/// A result of `v` with nothing measured yet.
variant_result result_of(const variant& v) {
  variant_result r;
  r.name = v.name;
  r.description = v.description;
  r.reference = v.reference;
  r.in_ratios = v.in_ratios;
  return r;
}

/// The result of `v` from its runs: each figure's median (a failed run is the result).
variant_result summarize(const variant& v, std::vector<measurement> runs) {
  auto r = result_of(v);
  r.runs = static_cast<int>(runs.size());
  for (const auto& m : runs) {
    r.all_rates.push_back(m.ok ? m.records_per_s() : 0);
    if (m.ok && m.latency_samples > 0)
      r.all_p99_us.push_back(m.p99_us);
  }
  if (!runs.back().ok) {
    r.m = runs.back();
    return r;
  }
  bool latency = runs.front().latency_samples > 0;
  // Each figure's median is taken on its own: the run of median throughput need not be the one
  // of median checkpoint time.
  auto figures = runs.front().figure_count;
  r.figure_runs.resize(static_cast<size_t>(figures));
  for (const auto& m : runs)
    for (int f = 0; f < figures && f < m.figure_count; ++f)
      r.figure_runs[static_cast<size_t>(f)].push_back(m.figures[f].value);
  std::sort(runs.begin(), runs.end(), [&](const auto& a, const auto& b) {
    return latency ? a.p99_us < b.p99_us : a.records_per_s() < b.records_per_s();
  });
  r.m = runs[runs.size() / 2];
  for (int f = 0; f < figures && f < r.m.figure_count; ++f) {
    auto values = r.figure_runs[static_cast<size_t>(f)];
    std::sort(values.begin(), values.end());
    r.m.figures[f].value = values[values.size() / 2];
  }
  return r;
}

workload_result run_workload(const workload& w, const options& opt,
                             const std::vector<std::string>& only = {}) {
  workload_result res;
  res.name = w.name;
  res.description = w.description;
  std::string skip;
  std::string error;
  auto selected = std::any_of(w.variants.begin(), w.variants.end(), [&](const auto& v) {
    return only.empty() ? opt.variant.empty() || v.name == opt.variant
                        : std::find(only.begin(), only.end(), v.name) != only.end();
  });
  if (w.prepare && selected) {
    if (!opt.json)
      std::cerr << "  " << w.name << ": preparing..." << std::flush;
    try {
      skip = w.prepare(opt);
    } catch (const std::exception& e) {
      error = std::string{"preparation failed: "} + e.what();
    }
    if (!opt.json)
      std::cerr << (!error.empty() ? " FAILED: " + error + "\n"
                    : skip.empty() ? std::string{" ok\n"}
                                   : " SKIPPED: " + skip + "\n");
  }
  std::vector<const variant*> chosen;
  for (const auto& v : w.variants) {
    if (!only.empty() && std::find(only.begin(), only.end(), v.name) == only.end())
      continue;
    if (only.empty() && !opt.variant.empty() && v.name != opt.variant)
      continue;
    chosen.push_back(&v);
  }
  // Rounds of one run of each variant, rather than every run of one variant and then of the
  // next: a ratio then compares runs made seconds apart, not minutes, on a machine whose speed
  // drifts (docs/benchmarks.md, "Caveats"). A variant that failed runs no more.
  std::vector<std::vector<measurement>> runs(chosen.size());
  for (int round = 0; round < opt.repeat && skip.empty() && error.empty(); ++round)
    for (size_t i = 0; i < chosen.size(); ++i)
      if (runs[i].empty() || runs[i].back().ok)
        runs[i].push_back(run_once(w, *chosen[i], round, opt));
  for (size_t i = 0; i < chosen.size(); ++i) {
    const auto& v = *chosen[i];
    if (!skip.empty() || !error.empty()) {
      auto r = result_of(v);
      r.skipped = skip;
      r.m = failed(error.empty() ? "skipped: " + skip : error);
      res.variants.push_back(std::move(r));
      continue;
    }
    auto r = summarize(v, std::move(runs[i]));
    if (w.name == "chain" && v.name == "sluice" && r.m.ok)
      measured_chain_max_rate() = r.m.records_per_s();
    res.variants.push_back(std::move(r));
  }
  // Latency runs carry no checksum; every other variant of a workload must agree.
  const measurement* first = nullptr;
  for (const auto& v : res.variants) {
    if (!v.m.ok || v.m.latency_samples > 0)
      continue;
    if (!first)
      first = &v.m;
    else if (v.m.checksum != first->checksum)
      res.checksums_agree = false;
  }
  return res;
}

} // namespace

} // namespace bench

int main(int argc, char** argv) {
  using namespace bench;
  options opt;
  if (!parse(argc, argv, opt)) {
    usage(std::cerr);
    return 2;
  }
  auto workloads = all_workloads(opt);
  if (!opt.workload.empty()) {
    auto known = std::any_of(workloads.begin(), workloads.end(),
                             [&](const auto& w) { return w.name == opt.workload; });
    if (!known) {
      std::cerr << "sluice-bench: unknown workload '" << opt.workload << "'\n";
      usage(std::cerr);
      return 2;
    }
  }
  auto machine = describe_machine();
  std::vector<workload_result> results;
  for (const auto& w : workloads) {
    if (!opt.workload.empty() && w.name != opt.workload)
      continue;
    if (!opt.group.empty() && !w.name.starts_with(opt.group + "-"))
      continue;
    if (w.name == "latency" && measured_chain_max_rate() <= 0) {
      // The latency rate derives from the chain's maximum rate: measure it first.
      auto chain = std::find_if(workloads.begin(), workloads.end(),
                                [](const auto& x) { return x.name == "chain"; });
      results.push_back(run_workload(*chain, opt, {"sluice"}));
    }
    results.push_back(run_workload(w, opt));
  }
  auto json = to_json(machine, opt, results);
  if (opt.json) {
    std::cout << json << "\n";
  } else {
    std::cout << to_table(machine, opt, results);
  }
  if (!opt.json_out.empty()) {
    std::ofstream out{opt.json_out};
    out << json << "\n";
    if (!out) {
      std::cerr << "sluice-bench: cannot write " << opt.json_out << "\n";
      return 1;
    }
  }
  bool ok = true;
  for (const auto& w : results) {
    if (!w.checksums_agree) {
      std::cerr << "sluice-bench: workload '" << w.name
                << "': variants computed different results\n";
      ok = false;
    }
    for (const auto& v : w.variants)
      if (!v.m.ok && v.skipped.empty()) {
        std::cerr << "sluice-bench: " << w.name << "/" << v.name << " failed: " << v.m.error
                  << "\n";
        ok = false;
      }
  }
  return ok ? 0 : 1;
}
