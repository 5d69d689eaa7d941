// Workload "light_load": generator -> map -> key_by -> count -> sink, at full speed and at
// fixed rates far below it. What a job costs while it idles along matters as much as its peak:
// a production job spends most of its life well below its maximum rate. The figures are CPU
// per million records and cores in use, beside the same job at full speed.

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "sluice/all.hpp"

#include "bench.hpp"

namespace bench {

namespace {

/// Sums what arrives (key * 31 + count per record).
struct sum_sink {
  using input_type = std::pair<uint64_t, int64_t>;
  using output_type = sluice::no_output;

  std::shared_ptr<std::atomic<uint64_t>> acc = std::make_shared<std::atomic<uint64_t>>(0);

  void on_batch(std::vector<sluice::record<input_type>>& records,
                sluice::context<sluice::no_output>&) {
    uint64_t sum = 0;
    for (const auto& r : records)
      sum += r.value.first * 31 + static_cast<uint64_t>(r.value.second);
    acc->fetch_add(sum, std::memory_order_relaxed);
  }
};

/// Runs the job over `records` records at `rate` records/s (0: unlimited), in streaming mode
/// (every record updates a count and reaches the sink, as at a low rate in production).
measurement run_light_load(const options& opt, uint64_t records, double rate) {
  auto config = runtime_config(opt);
  config.mode = sluice::execution_mode::streaming;
  config.state = sluice::state_backend::memory;
  sluice::runtime rt{config};
  sluice::pipeline p{"light_load"};
  sum_sink sink;
  auto acc = sink.acc;
  p.source(sluice::generate<uint64_t>([](uint64_t i) { return i; }, {records, rate}))
    .map([](uint64_t x) { return x * 7; })
    .key_by([](const uint64_t& x) { return x % 1000; })
    .count()
    .sink(sink);
  // The variants run different numbers of records: each checks its own sum against the one a
  // plain loop gets, and all report 1 when right.
  uint64_t expected = 0;
  std::vector<int64_t> counts(1000);
  for (uint64_t i = 0; i < records; ++i) {
    auto key = i * 7 % 1000;
    expected += key * 31 + static_cast<uint64_t>(++counts[key]);
  }
  auto m = timed_run(rt, p, records, [&] {
    auto sum = acc->load();
    return sum == expected ? uint64_t{1} : sum;
  });
  if (m.ok)
    m.add_figure("cores", "cores", m.cpu_s() / m.wall_s);
  return m;
}

/// A variant at `rate` records/s that runs about `seconds` (0 rate: full speed, 2e7 records).
variant at_rate(const char* name, double rate, double seconds, bool reference) {
  auto description = rate > 0 ? "rate-limited to " + std::to_string(static_cast<uint64_t>(rate))
                                  + " records/s for about " + std::to_string(int(seconds)) + " s"
                              : std::string{"full speed: the CPU per record to compare with"};
  return {name, description, reference, [rate, seconds](const options& opt) {
            auto full = rate > 0 ? static_cast<uint64_t>(rate * seconds) : uint64_t{20'000'000};
            auto quick = rate > 0 ? std::max<uint64_t>(2, static_cast<uint64_t>(rate / 2))
                                  : uint64_t{1'000'000};
            return run_light_load(opt, sized(opt, full, quick), rate);
          }};
}

} // namespace

workload light_load_workload() {
  return {"light_load",
          "generator -> map -> key_by -> count -> sink (p=1, streaming), CPU per record and "
          "cores at fixed rates",
          {
            at_rate("full", 0, 0, true),
            at_rate("100k_per_s", 100'000, 5, false),
            at_rate("1k_per_s", 1'000, 5, false),
            at_rate("10_per_s", 10, 5, false),
          }};
}

} // namespace bench
