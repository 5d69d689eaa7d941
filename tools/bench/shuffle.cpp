// Workload "shuffle": generator (p=2) -> key_by(x) -> keyed process (p=2) -> sink. The keyed
// operator only counts and sums what it receives, so the figure is the cost of the hash
// partitioning and the channels; beside a bare loop that computes the same key group and
// instance per record and sums per instance.

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "sluice/all.hpp"
#include "sluice/key_group.hpp"

#include "bench.hpp"

namespace bench {

namespace {

constexpr uint32_t parallelism = 2;

uint64_t shuffle_records(const options& opt) {
  return sized(opt, 100'000'000, 2'000'000);
}

/// Checksum of the shuffle: each instance's sum weighted by the instance's count, so records
/// routed to the wrong instance (but still counted) change it.
uint64_t combine(uint64_t sum, uint64_t count) {
  return mix64(count) ^ sum;
}

/// Keyed process: per instance, the sum and count of what arrived; emitted at end of stream.
struct sum_per_instance {
  uint64_t sum = 0;
  uint64_t count = 0;

  void process(const int64_t& x, sluice::keyed_context<int64_t, uint64_t>&) {
    sum += static_cast<uint64_t>(x);
    ++count;
  }

  void on_end(sluice::context<uint64_t>& ctx) { ctx.emit(combine(sum, count)); }
};

struct xor_sink {
  using input_type = uint64_t;
  using output_type = sluice::no_output;

  std::shared_ptr<std::atomic<uint64_t>> acc = std::make_shared<std::atomic<uint64_t>>(0);

  void on_batch(std::vector<sluice::record<uint64_t>>& records,
                sluice::context<sluice::no_output>&) {
    for (const auto& r : records)
      acc->fetch_xor(r.value, std::memory_order_relaxed);
  }
};

measurement run_sluice_shuffle(const options& opt) {
  auto n = shuffle_records(opt);
  sluice::runtime rt{runtime_config(opt)};
  sluice::pipeline p{"shuffle"};
  xor_sink sink;
  auto acc = sink.acc;
  p.source(
     sluice::generate<int64_t>([](uint64_t i) { return static_cast<int64_t>(i); }, {.count = n}))
    .parallelism(parallelism)
    .key_by([](const int64_t& x) { return x; })
    .process<uint64_t>(sum_per_instance{})
    .parallelism(parallelism)
    .sink(sink);
  return timed_run(rt, p, n, [&] { return acc->load(); });
}

measurement run_bare_shuffle(const options& opt) {
  auto n = shuffle_records(opt);
  constexpr uint32_t max_parallelism = 128;
  return timed(n, [&] {
    uint64_t sum[parallelism] = {};
    uint64_t count[parallelism] = {};
    for (uint64_t i = 0; i < n; ++i) {
      auto x = static_cast<int64_t>(i);
      auto group = sluice::key_group_of(x, max_parallelism);
      auto inst = sluice::instance_of_key_group(group, parallelism, max_parallelism);
      sum[inst] += static_cast<uint64_t>(x);
      ++count[inst];
    }
    uint64_t acc = 0;
    for (uint32_t i = 0; i < parallelism; ++i)
      acc ^= combine(sum[i], count[i]);
    return acc;
  });
}

} // namespace

workload shuffle_workload() {
  return {"shuffle",
          "generator(p=2) -> key_by(int64) -> keyed process: count+sum (p=2) -> sink",
          {
            {"sluice", "Sluice pipeline, hash partitioning over 128 key groups", false,
             run_sluice_shuffle},
            {"bare_loop", "one thread: key group + instance per record, sums per instance", true,
             run_bare_shuffle},
          }};
}

} // namespace bench
