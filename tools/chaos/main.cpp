// sluice-chaos: runs keyed jobs through dense random faults (instances killed, user code
// throwing, whole processes SIGKILLed) and checks that their output is exactly that of an
// undisturbed run (docs/chaos.md).

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "run.hpp"

namespace {

using namespace chaos;

void usage(std::ostream& os) {
  os << "usage: sluice-chaos [--short] [--shape NAME|all] [--sink collect|file|all]\n"
        "                    [--seed N] [--seeds N] [--faults N] [--kind kill|throw|both]\n"
        "                    [--targets OP,OP...] [--gap MIN_MS,MAX_MS] [--records N]\n"
        "                    [--rate R] [--process-kills N] [--timeout S]\n"
        "  --short            the CI form: every shape and sink, fewer faults and records\n"
        "  --shape NAME       union (default), chain, shuffle, timers, two_inputs, windows, or "
        "all:\n";
  for (const auto& s : all_shapes())
    os << "                       " << s.name << ": " << s.description << '\n';
  os << "  --sink KIND        collect (default), file, kafka (a real broker it starts), or all\n"
        "  --seed N           the first seed (default 1); --seeds N runs N seeds from it\n"
        "  --faults N         in-process faults per run (default 1000)\n"
        "  --kind K           kill, throw or both (default)\n"
        "  --targets OPS      the operators faults hit (default: every one of the shape)\n"
        "  --gap MIN,MAX      milliseconds between faults (default 10,50)\n"
        "  --records N        numbers read per run (default 1800000)\n"
        "  --rate R           records per second over all sources (default 150000)\n"
        "  --process-kills N  instead of in-process faults: run the job as a child process\n"
        "                     and SIGKILL it N times, each after a checkpoint (file sink)\n"
        "  --timeout S        a run that takes longer has hung (default 300)\n";
}

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> parts;
  std::stringstream in{s};
  for (std::string part; std::getline(in, part, ',');)
    parts.push_back(part);
  return parts;
}

/// Every sink kind a job can end in. (`print` is not one: it writes at least once, for people
/// to read, so a restarted instance may print again what it printed before.)
const std::vector<sink_kind> all_sinks{sink_kind::collect, sink_kind::file, sink_kind::kafka};

struct settings {
  run_options run;
  std::vector<const shape*> shapes;
  std::vector<sink_kind> sinks{sink_kind::collect};
  uint32_t seeds = 1;
  bool short_form = false;
  bool child = false;
  std::string state;
  std::string out;
};

/// Parses the command line into `s`; false (having said why) on a bad argument.
bool parse(int argc, char** argv, settings& s) {
  std::string shape_name = "union";
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc)
        throw std::invalid_argument(a + " needs a value");
      return argv[++i];
    };
    auto number = [&]() -> uint64_t {
      auto v = value();
      size_t end = 0;
      auto n = std::stoull(v, &end);
      if (end != v.size())
        throw std::invalid_argument(a + " needs a whole number, not '" + v + "'");
      return n;
    };
    try {
      if (a == "--short") {
        s.short_form = true;
      } else if (a == "--shape") {
        shape_name = value();
      } else if (a == "--sink") {
        auto v = value();
        if (v == "collect")
          s.sinks = {sink_kind::collect};
        else if (v == "file")
          s.sinks = {sink_kind::file};
        else if (v == "kafka")
          s.sinks = {sink_kind::kafka};
        else if (v == "all")
          s.sinks = all_sinks;
        else
          throw std::invalid_argument("--sink takes collect, file, kafka or all, not '" + v + "'");
      } else if (a == "--seed") {
        s.run.seed = static_cast<uint32_t>(number());
      } else if (a == "--seeds") {
        s.seeds = static_cast<uint32_t>(number());
      } else if (a == "--faults") {
        s.run.faults = number();
      } else if (a == "--kind") {
        auto v = value();
        if (v == "kill")
          s.run.kind = fault_kind::kill;
        else if (v == "throw")
          s.run.kind = fault_kind::throw_;
        else if (v == "both")
          s.run.kind = fault_kind::both;
        else
          throw std::invalid_argument("--kind takes kill, throw or both, not '" + v + "'");
      } else if (a == "--targets") {
        s.run.targets = split(value());
      } else if (a == "--gap") {
        auto parts = split(value());
        if (parts.size() != 2)
          throw std::invalid_argument("--gap takes MIN,MAX in milliseconds");
        s.run.min_gap = std::chrono::milliseconds{std::stoll(parts[0])};
        s.run.max_gap = std::chrono::milliseconds{std::stoll(parts[1])};
        if (s.run.min_gap.count() < 0 || s.run.max_gap < s.run.min_gap)
          throw std::invalid_argument("--gap needs 0 <= MIN <= MAX");
      } else if (a == "--records") {
        s.run.records = number();
      } else if (a == "--rate") {
        s.run.rate = std::stod(value());
      } else if (a == "--process-kills") {
        s.run.process_kills = number();
      } else if (a == "--timeout") {
        s.run.timeout = std::chrono::seconds{number()};
      } else if (a == "--child") {
        s.child = true;
      } else if (a == "--state") {
        s.state = value();
      } else if (a == "--out") {
        s.out = value();
      } else if (a == "--help" || a == "-h") {
        usage(std::cout);
        std::exit(0);
      } else {
        throw std::invalid_argument("unknown argument '" + a + "'");
      }
    } catch (const std::exception& e) {
      std::cerr << "sluice-chaos: " << e.what() << "\n\n";
      usage(std::cerr);
      return false;
    }
  }
  if (shape_name == "all" || s.short_form) {
    for (const auto& sh : all_shapes())
      s.shapes.push_back(&sh);
  } else if (const auto* sh = find_shape(shape_name)) {
    s.shapes.push_back(sh);
  } else {
    std::cerr << "sluice-chaos: no shape '" << shape_name << "'\n\n";
    usage(std::cerr);
    return false;
  }
  for (const auto& t : s.run.targets) {
    bool known = false;
    for (const auto* sh : s.shapes)
      for (const auto& target : sh->targets)
        known = known || target.name == t;
    if (!known) {
      std::cerr << "sluice-chaos: no operator '" << t << "' in the shapes run\n";
      return false;
    }
  }
  return true;
}

/// The `q`-quantile of `values` (0 when empty).
double quantile(std::vector<double> values, double q) {
  if (values.empty())
    return 0;
  std::sort(values.begin(), values.end());
  return values[static_cast<size_t>(q * static_cast<double>(values.size() - 1))];
}

void print_row(const run_options& o, const run_result& r) {
  char line[512];
  std::snprintf(
    line, sizeof line, "%-8s %-8s %6u %7llu %6llu %6llu %7llu %8llu %8.1f %8.1f %8.1f %7.1f  %s",
    o.job_shape->name.c_str(), o.process_kills > 0 ? "file" : to_string(o.sink).c_str(), o.seed,
    static_cast<unsigned long long>(r.faults), static_cast<unsigned long long>(r.kills),
    static_cast<unsigned long long>(r.throws), static_cast<unsigned long long>(r.process_kills),
    static_cast<unsigned long long>(r.restarts), quantile(r.recovery_ms, 0.5),
    quantile(r.recovery_ms, 0.99), quantile(r.recovery_ms, 1.0), r.seconds,
    !r.skipped.empty() ? "skipped"
    : r.passed()       ? "exact"
                       : "FAILED");
  std::cout << line << std::endl;
  if (!r.error.empty())
    std::cout << "    error: " << r.error << std::endl;
  if (r.error.empty() && !r.outcome.exact())
    std::cout << "    " << r.outcome.keys_wrong << " keys wrong, " << r.outcome.repeated
              << " results repeated: " << r.outcome.detail << std::endl;
}

} // namespace

int main(int argc, char** argv) {
  settings s;
  if (!parse(argc, argv, s))
    return 2;
  if (s.child) {
    s.run.job_shape = s.shapes.front();
    return run_child(s.run, s.state, s.out);
  }
  std::vector<run_options> runs;
  if (s.short_form) {
    // Each shape with each sink through 60 in-process faults, and the union job through 10
    // whole-process kills: about a minute in an optimized build.
    for (const auto* sh : s.shapes)
      for (auto sink : all_sinks) {
        auto o = s.run;
        o.job_shape = sh;
        o.sink = sink;
        o.faults = 60;
        o.records = 300'000;
        runs.push_back(o);
      }
    auto o = s.run;
    o.job_shape = s.shapes.front();
    o.process_kills = 10;
    o.records = 600'000;
    runs.push_back(o);
  } else {
    for (uint32_t seed = s.run.seed; seed < s.run.seed + s.seeds; ++seed)
      for (const auto* sh : s.shapes)
        for (auto sink : s.sinks) {
          auto o = s.run;
          o.job_shape = sh;
          o.sink = sink;
          o.seed = seed;
          runs.push_back(o);
          if (o.process_kills > 0)
            break; // the process runs write files
        }
  }
  std::unique_ptr<kafka_broker> kafka;
  if (std::any_of(runs.begin(), runs.end(), [](const run_options& o) {
        return o.sink == sink_kind::kafka && o.process_kills == 0;
      })) {
    std::string why_not;
    kafka = kafka_broker::start(why_not);
    if (!kafka)
      std::cout << "sluice-chaos: the runs with the Kafka sink are skipped: " << why_not << "\n";
    for (auto& o : runs)
      o.kafka = kafka.get();
  }
  std::cout << "shape    sink       seed  faults  kills throws  killed restarts"
               "  rec p50  rec p99  rec max    secs  verdict\n";
  int passed = 0, failed = 0, skipped = 0;
  for (const auto& o : runs) {
    auto r = o.process_kills > 0 ? run_killed_processes(o, argv[0]) : run_in_process(o);
    print_row(o, r);
    (!r.skipped.empty() ? skipped : r.passed() ? passed : failed)++;
  }
  std::cout << "chaos: " << passed << " passed, " << failed << " failed";
  if (skipped > 0)
    std::cout << ", " << skipped << " skipped";
  std::cout << std::endl;
  return failed == 0 ? 0 : 1;
}
