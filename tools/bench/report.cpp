// The output of sluice-bench: the machine description, the JSON document and the table.

#include <dlfcn.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <caf/config.hpp>

#include <boost/json/src.hpp>

#include "sluice/config.hpp"

#include "bench.hpp"

namespace bench {

namespace json = boost::json;

machine_info describe_machine() {
  machine_info m;
  m.cores = static_cast<unsigned>(sysconf(_SC_NPROCESSORS_ONLN));
  std::ifstream cpu{"/proc/cpuinfo"};
  std::string line;
  while (std::getline(cpu, line))
    if (line.rfind("model name", 0) == 0) {
      auto colon = line.find(':');
      m.cpu_model = colon == std::string::npos ? line : line.substr(colon + 2);
      break;
    }
  utsname u{};
  if (uname(&u) == 0)
    m.kernel = std::string{u.sysname} + " " + u.release + " " + u.machine;
#if defined(__clang__)
  m.compiler = "clang " __clang_version__;
#elif defined(__GNUC__)
  m.compiler = "gcc " __VERSION__;
#endif
  m.caf_version = std::to_string(CAF_VERSION / 10000) + "."
                  + std::to_string(CAF_VERSION / 100 % 100) + "."
                  + std::to_string(CAF_VERSION % 100);
#ifdef NDEBUG
  m.optimized = true;
#endif
  // The library whose malloc the program calls: jemalloc unless built with SLUICE_ALLOCATOR=system.
  Dl_info info{};
  if (auto* malloc_in_use = dlsym(RTLD_DEFAULT, "malloc");
      malloc_in_use != nullptr && dladdr(malloc_in_use, &info) != 0 && info.dli_fname != nullptr)
    m.allocator = std::filesystem::path{info.dli_fname}.filename().string();
  return m;
}

namespace {

const variant_result* find(const std::vector<workload_result>& results, const std::string& w,
                           const std::string& v) {
  for (const auto& wr : results)
    if (wr.name == w)
      for (const auto& vr : wr.variants)
        if (vr.name == v && vr.m.ok)
          return &vr;
  return nullptr;
}

std::optional<double> figure_value(const measurement& m, const std::string& name) {
  for (int f = 0; f < m.figure_count; ++f)
    if (name == m.figures[f].name)
      return m.figures[f].value;
  return std::nullopt;
}

/// One of the targets, beside what was measured.
struct target {
  std::string name;
  std::string required;
  std::optional<double> measured; ///< in `unit`
  std::string unit;
  std::optional<double> ratio; ///< measured / required (for latency: limit / measured)
  std::optional<bool> met;     ///< empty for figures that are only a reference
};

std::vector<target> targets(const std::vector<workload_result>& results) {
  std::vector<target> out;
  auto* chain = find(results, "chain", "sluice");
  auto* caf = find(results, "chain", "bare_caf");
  auto* wc2 = find(results, "wordcount", "sluice_p2");
  auto* wc_bare = find(results, "wordcount", "bare_loop");
  auto* lat = find(results, "latency", "half_max");
  auto* wcs_memory = find(results, "wc_state", "memory");
  auto* wcs_ckpt = find(results, "wc_state", "lmdb_ckpt");
  auto* restore_1e6 = find(results, "restore", "1e6_ckpt");
  auto* restore_1e6_mid = find(results, "restore", "1e6_mid");
  if (chain) {
    auto r = chain->m.records_per_s();
    out.push_back({"10-stage chain, Sluice", ">= 100 M records/s", r / 1e6, "M records/s",
                   r / 100e6, r >= 100e6});
  }
  if (caf) {
    auto r = caf->m.records_per_s();
    out.push_back({"10-stage chain, bare CAF (reference)", "about 170 M records/s on this machine",
                   r / 1e6, "M records/s", r / 170e6, std::nullopt});
  }
  if (chain && caf) {
    auto r = chain->m.records_per_s() / caf->m.records_per_s();
    out.push_back({"10-stage chain, Sluice / bare CAF", "close to 1 (the protocol may cost little)",
                   r, "x", r, std::nullopt});
  }
  if (wc2 && wc_bare) {
    auto r = wc2->m.records_per_s() / wc_bare->m.records_per_s();
    out.push_back({"word count p=2 / bare single-threaded loop", ">= 1.0x", r, "x", r, r >= 1.0});
  }
  if (wc_bare) {
    auto r = wc_bare->m.records_per_s();
    out.push_back({"word count, bare loop (reference)", "about 15 M words/s on this machine",
                   r / 1e6, "M words/s", r / 15e6, std::nullopt});
  }
  if (lat) {
    auto p99_ms = lat->m.p99_us / 1e3;
    out.push_back({"p99 latency at half the chain's max rate", "< 1 ms", p99_ms, "ms", 1.0 / p99_ms,
                   p99_ms < 1.0});
  }
  auto* full_speed = find(results, "light_load", "full");
  auto* at_100k = find(results, "light_load", "100k_per_s");
  auto* at_10 = find(results, "light_load", "10_per_s");
  if (full_speed && at_100k) {
    auto r = at_100k->m.cpu_s_per_million() / full_speed->m.cpu_s_per_million();
    out.push_back(
      {"CPU per record at 100k records/s / at full speed", "<= 10x", r, "x", 10.0 / r, r <= 10.0});
  }
  if (at_10)
    if (auto cores = figure_value(at_10->m, "cores"))
      out.push_back(
        {"cores in use at 10 records/s", "< 0.02", *cores, "cores", 0.02 / *cores, *cores < 0.02});
  if (wcs_memory && wcs_ckpt) {
    auto r = wcs_ckpt->m.records_per_s() / wcs_memory->m.records_per_s();
    out.push_back(
      {"streaming word count, LMDB+ckpt / memory", ">= 0.5x", r, "x", r / 0.5, r >= 0.5});
  }
  for (auto [r, when] :
       {std::pair{restore_1e6, "at checkpoint"}, std::pair{restore_1e6_mid, "between checkpoints"}})
    if (r)
      if (auto up = figure_value(r->m, "back_up"))
        out.push_back(
          {std::string{"restore 1e6 keys, kill "} + when, "< 2 s", *up, "s", 2.0 / *up, *up < 2.0});
  auto* local = find(results, "recovery", "local");
  auto* full = find(results, "recovery", "full");
  auto* recovery_on = find(results, "retention", "recovery_on");
  auto* recovery_off = find(results, "retention", "recovery_off");
  if (local)
    if (auto ms = figure_value(local->m, "recovery"))
      out.push_back({"local recovery, 1e6 keys, 1 s checkpoints", "< 100 ms", *ms, "ms",
                     100.0 / *ms, *ms < 100.0});
  if (local && full) {
    auto l = figure_value(local->m, "recovery");
    auto f = figure_value(full->m, "recovery");
    if (l && f)
      out.push_back({"full restart / local recovery time", ">= 10x", *f / *l, "x", *f / *l / 10.0,
                     *f / *l >= 10.0});
  }
  auto* raw_pass = find(results, "kafka_passthrough", "raw_loop");
  for (auto [name, goal] : {std::pair{"sluice_p1", 0.7}, std::pair{"sluice_p2", 0.7},
                            std::pair{"sluice_eos_p1", 0.5}, std::pair{"sluice_eos_p2", 0.5}})
    if (auto* pass = find(results, "kafka_passthrough", name); pass && raw_pass) {
      auto r = pass->m.records_per_s() / raw_pass->m.records_per_s();
      char wanted[16];
      std::snprintf(wanted, sizeof wanted, ">= %.1fx", goal);
      out.push_back({std::string{"Kafka passthrough "} + (name + 7) + " / raw consume+produce",
                     wanted, r, "x", r / goal, r >= goal});
    }
  if (recovery_on && recovery_off) {
    auto r = recovery_on->m.records_per_s() / recovery_off->m.records_per_s();
    out.push_back(
      {"throughput with retention / without", "(cost of retention)", r, "x", r, std::nullopt});
  }
  return out;
}

std::string fmt(const char* f, double x) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, x);
  return buf;
}

/// 123456789 -> "123.5M"
std::string si(double x) {
  if (x >= 1e9)
    return fmt("%.2fG", x / 1e9);
  if (x >= 1e6)
    return fmt("%.1fM", x / 1e6);
  if (x >= 1e3)
    return fmt("%.1fk", x / 1e3);
  return fmt("%.0f", x);
}

bool defaults(const options& opt) {
  return opt.flush_delay_us < 0 && opt.batch_size < 0 && opt.input_buffer < 0
         && opt.input_buffer_limit < 0 && opt.workers < 0 && opt.scheduler.empty();
}

json::object machine_json(const machine_info& m) {
  return {
    {"cores", m.cores},          {"cpu_model", m.cpu_model},     {"kernel", m.kernel},
    {"compiler", m.compiler},    {"caf_version", m.caf_version}, {"optimized_build", m.optimized},
    {"malloc_from", m.allocator}};
}

} // namespace

std::string to_json(const machine_info& machine, const options& opt,
                    const std::vector<workload_result>& results) {
  json::object doc;
  doc["benchmark"] = "sluice-bench";
  doc["machine"] = machine_json(machine);
  doc["options"] = json::object{{"quick", opt.quick},
                                {"workload", opt.workload.empty() ? "all" : opt.workload},
                                {"scale", opt.scale},
                                {"repeat", opt.repeat}};
  {
    auto cfg = runtime_config(opt);
    doc["runtime_config"] =
      json::object{{"batch_size", cfg.batch_size},
                   {"input_buffer", cfg.input_buffer},
                   {"input_buffer_limit", cfg.input_buffer_limit},
                   {"flush_delay_us", cfg.flush_delay.count()},
                   {"worker_threads", cfg.worker_threads},
                   {"scheduler", opt.scheduler.empty() ? "work_stealing" : opt.scheduler},
                   {"defaults", defaults(opt)}};
  }
  json::array workloads;
  for (const auto& w : results) {
    json::object wo;
    wo["name"] = w.name;
    wo["description"] = w.description;
    wo["checksums_agree"] = w.checksums_agree;
    json::array variants;
    for (const auto& v : w.variants) {
      const auto& m = v.m;
      json::object vo;
      vo["name"] = v.name;
      vo["description"] = v.description;
      vo["reference"] = v.reference;
      vo["ok"] = m.ok;
      if (!m.ok) {
        vo["error"] = m.error;
        if (!v.skipped.empty())
          vo["skipped"] = v.skipped;
        variants.push_back(std::move(vo));
        continue;
      }
      vo["runs"] = v.runs;
      vo["records"] = m.records;
      vo["wall_s"] = m.wall_s;
      vo["records_per_s"] = m.records_per_s();
      json::array rates;
      for (auto r : v.all_rates)
        rates.push_back(r);
      vo["records_per_s_all_runs"] = std::move(rates);
      vo["cpu_user_s"] = m.cpu_user_s;
      vo["cpu_sys_s"] = m.cpu_sys_s;
      vo["cpu_s_per_million_records"] = m.cpu_s_per_million();
      vo["cores_busy"] = m.wall_s > 0 ? m.cpu_s() / m.wall_s : 0;
      vo["background_cores"] = m.background_cores;
      vo["rss_start_mb"] = m.rss_start_kb / 1024.0;
      vo["peak_rss_mb"] = m.peak_rss_kb / 1024.0;
      vo["peak_anon_rss_mb"] = m.peak_anon_kb / 1024.0;
      vo["rss_growth_mb"] = (static_cast<double>(m.peak_rss_kb) - m.rss_start_kb) / 1024.0;
      if (m.latency_samples > 0) {
        vo["target_rate"] = m.target_rate;
        vo["latency_samples"] = m.latency_samples;
        vo["latency_us"] = json::object{{"p50", m.p50_us},
                                        {"p90", m.p90_us},
                                        {"p99", m.p99_us},
                                        {"p999", m.p999_us},
                                        {"max", m.max_us}};
        json::array p99s;
        for (auto p : v.all_p99_us)
          p99s.push_back(p);
        vo["p99_us_all_runs"] = std::move(p99s);
      } else {
        vo["checksum"] = m.checksum;
      }
      if (v.m.figure_count > 0) {
        json::object figures;
        for (int f = 0; f < m.figure_count; ++f) {
          json::array runs;
          if (static_cast<size_t>(f) < v.figure_runs.size())
            for (auto x : v.figure_runs[static_cast<size_t>(f)])
              runs.push_back(x);
          figures[m.figures[f].name] = json::object{
            {"median", m.figures[f].value}, {"unit", m.figures[f].unit}, {"all_runs", runs}};
        }
        vo["figures"] = std::move(figures);
      }
      if (!v.reference) {
        json::object ratios;
        for (const auto& ref : w.variants)
          if (ref.reference && ref.in_ratios && ref.m.ok && ref.m.records_per_s() > 0)
            ratios[ref.name] = m.records_per_s() / ref.m.records_per_s();
        if (!ratios.empty())
          vo["records_per_s_ratio_vs"] = std::move(ratios);
      }
      variants.push_back(std::move(vo));
    }
    wo["variants"] = std::move(variants);
    workloads.push_back(std::move(wo));
  }
  doc["workloads"] = std::move(workloads);
  json::array ts;
  for (const auto& t : targets(results)) {
    json::object to;
    to["name"] = t.name;
    to["required"] = t.required;
    to["unit"] = t.unit;
    to["measured"] = t.measured ? json::value(*t.measured) : json::value(nullptr);
    to["ratio"] = t.ratio ? json::value(*t.ratio) : json::value(nullptr);
    to["met"] = t.met ? json::value(*t.met) : json::value(nullptr);
    ts.push_back(std::move(to));
  }
  doc["targets"] = std::move(ts);
  return json::serialize(doc);
}

std::string to_table(const machine_info& machine, const options& opt,
                     const std::vector<workload_result>& results) {
  std::ostringstream os;
  char line[512];
  os << "sluice-bench" << (opt.quick ? " --quick" : "") << " on " << machine.cores << " cores, "
     << machine.cpu_model << ", " << machine.kernel << ", " << machine.compiler << ", CAF "
     << machine.caf_version << ", malloc from " << machine.allocator
     << (machine.optimized ? "" : ", NOT an optimized (NDEBUG) build") << "\n";
  {
    auto cfg = runtime_config(opt);
    os << "runtime: batch_size " << cfg.batch_size << ", input_buffer " << cfg.input_buffer
       << " (up to " << cfg.input_buffer_limit << ")"
       << ", flush_delay " << cfg.flush_delay.count() << " us, worker_threads "
       << cfg.worker_threads << (cfg.worker_threads == 0 ? " (one per core)" : "") << ", scheduler "
       << (opt.scheduler.empty() ? "work_stealing" : opt.scheduler)
       << (defaults(opt) ? " (defaults)" : " (NOT the defaults)") << "\n\n";
  }
  std::snprintf(line, sizeof line, "%-10s %-10s %9s %10s %15s %8s %6s %5s %9s %9s %9s  %s\n",
                "workload", "variant", "records", "rec/s", "(min-max)", "CPU-s/M", "cores", "bg",
                "peakRSS", "RSS+", "anonRSS", "ratio");
  os << line;
  os << std::string(132, '-') << "\n";
  for (const auto& w : results) {
    for (const auto& v : w.variants) {
      const auto& m = v.m;
      if (!m.ok) {
        std::snprintf(line, sizeof line, "%-10s %-10s ", w.name.c_str(), v.name.c_str());
        os << line
           << (v.skipped.empty() ? "FAILED: " + std::string{m.error} : "SKIPPED: " + v.skipped)
           << "\n";
        continue;
      }
      std::string ratio;
      if (!v.reference)
        for (const auto& ref : w.variants)
          if (ref.reference && ref.in_ratios && ref.m.ok && ref.m.records_per_s() > 0)
            ratio += fmt("%.3gx ", m.records_per_s() / ref.m.records_per_s()) + ref.name + "  ";
      if (v.reference)
        ratio = v.in_ratios ? "(reference)" : "(for scale, not a ratio base)";
      std::string spread;
      if (v.all_rates.size() > 1) {
        auto [lo, hi] = std::minmax_element(v.all_rates.begin(), v.all_rates.end());
        // Appended piece by piece: g++ 12 -O3 sees a false -Wrestrict in "(" + s + ...
        spread.append("(").append(si(*lo)).append("-").append(si(*hi)).append(")");
      }
      std::snprintf(line, sizeof line,
                    "%-10s %-10s %9s %10s %15s %8.3f %6.2f %5.2f %7.1fMB %7.1fMB %7.1fMB  %s\n",
                    w.name.c_str(), v.name.c_str(), si(static_cast<double>(m.records)).c_str(),
                    si(m.records_per_s()).c_str(), spread.c_str(), m.cpu_s_per_million(),
                    m.wall_s > 0 ? m.cpu_s() / m.wall_s : 0.0, m.background_cores,
                    m.peak_rss_kb / 1024.0,
                    (static_cast<double>(m.peak_rss_kb) - m.rss_start_kb) / 1024.0,
                    m.peak_anon_kb / 1024.0, ratio.c_str());
      os << line;
    }
    if (!w.checksums_agree)
      os << "  !! " << w.name << ": variants computed different results\n";
  }
  bool any_latency = false;
  for (const auto& w : results)
    for (const auto& v : w.variants)
      any_latency = any_latency || (v.m.ok && v.m.latency_samples > 0);
  if (any_latency) {
    os << "\nlatency: record created in the source -> arrival at the sink (TSC ticks calibrated "
          "against\nsteady_clock); kafka_latency: a record's send by a producer -> its arrival "
          "at a consumer of\nthe output topic (steady_clock); the first 10% of each run is "
          "warm-up and not counted\n";
    std::snprintf(line, sizeof line, "%-10s %10s %10s %9s %9s %9s %9s %9s %8s\n", "variant", "rate",
                  "achieved", "p50", "p90", "p99", "p99.9", "max", "CPU-s/M");
    os << line;
    os << std::string(92, '-') << "\n";
    for (const auto& w : results)
      for (const auto& v : w.variants) {
        const auto& m = v.m;
        if (!m.ok || m.latency_samples == 0)
          continue;
        auto name = w.name == "latency" ? v.name : w.name + "/" + v.name;
        std::snprintf(line, sizeof line,
                      "%-10s %10s %10s %7.0fus %7.0fus %7.0fus %7.0fus %7.0fus %8.3f\n",
                      name.c_str(), si(m.target_rate).c_str(), si(m.records_per_s()).c_str(),
                      m.p50_us, m.p90_us, m.p99_us, m.p999_us, m.max_us, m.cpu_s_per_million());
        os << line;
      }
  }
  bool any_figures = false;
  for (const auto& w : results)
    for (const auto& v : w.variants)
      any_figures = any_figures || (v.m.ok && v.m.figure_count > 0);
  if (any_figures) {
    os << "\nfigures: the median over the runs of each figure on its own (min-max over all runs)\n";
    for (const auto& w : results)
      for (const auto& v : w.variants) {
        const auto& m = v.m;
        if (!m.ok || m.figure_count == 0)
          continue;
        std::snprintf(line, sizeof line, "%-10s %-10s %s\n", w.name.c_str(), v.name.c_str(),
                      v.description.c_str());
        os << line;
        for (int f = 0; f < m.figure_count; ++f) {
          std::string spread;
          if (static_cast<size_t>(f) < v.figure_runs.size()
              && v.figure_runs[static_cast<size_t>(f)].size() > 1) {
            auto [lo, hi] = std::minmax_element(v.figure_runs[static_cast<size_t>(f)].begin(),
                                                v.figure_runs[static_cast<size_t>(f)].end());
            spread = "(" + fmt("%.4g", *lo) + "-" + fmt("%.4g", *hi) + ")";
          }
          std::snprintf(line, sizeof line, "  %-22s %10.4g %-4s %s\n", m.figures[f].name,
                        m.figures[f].value, m.figures[f].unit, spread.c_str());
          os << line;
        }
      }
  }
  double worst_bg = 0;
  for (const auto& w : results)
    for (const auto& v : w.variants)
      if (v.m.ok)
        worst_bg = std::max(worst_bg, v.m.background_cores);
  os << "\nrec/s: the median of the runs (min-max over all runs when --repeat > 1)."
        "\ncores: CPU-seconds per wall second of the measurement (all its threads); bg: CPU used\n"
        "by other processes meanwhile, in cores. RSS+: peak RSS minus RSS at the child's start.\n"
        "anonRSS: the most anonymous memory (RssAnon: no mapped files such as LMDB's) sampled\n"
        "every 5 ms, where the workload samples it (else 0).\n";
  if (worst_bg > 0.1)
    os << "WARNING: other processes used up to " << fmt("%.2f", worst_bg)
       << " cores during the measurements: the figures are disturbed.\n";
  auto ts = targets(results);
  if (!ts.empty()) {
    os << "\ntargets (issues #2 to #5)"
       << (machine.optimized ? "" : " -- NOT an optimized build: these verdicts mean nothing")
       << "\n";
    for (const auto& t : ts) {
      std::string measured = t.measured ? fmt("%.3g", *t.measured) + " " + t.unit : "-";
      std::string verdict = !t.met ? "reference" : (*t.met ? "MET" : "MISSED");
      std::snprintf(line, sizeof line, "  %-44s %-38s %-18s %s\n", t.name.c_str(),
                    t.required.c_str(), measured.c_str(), verdict.c_str());
      os << line;
    }
  }
  return os.str();
}

} // namespace bench
