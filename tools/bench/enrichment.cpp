// Workload "enrichment": a keyed two-input process at parallelism 2 looks events up against the
// latest value of their key.
//
//   updates (p=1): key i gets value mix64(i), for each of 10^6 keys ──key_by(key)──┐
//                                                                                   ├─ keyed
//   events (p=2): event j looks up key mix64(j) mod 10^6 ─────key_by(key)───────────┘  co-process
//                                                                                 (p=2) -> sink
//
// An event whose key has no value yet waits in keyed state for it, so the result does not depend
// on how the two inputs interleave: the checksum sums mix(value, j) over all events. Beside a bare
// single-threaded loop that fills a std::unordered_map with the updates and then does the same
// lookups.

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <unordered_map>
#include <utility>

#include "sluice/all.hpp"

#include "bench.hpp"
#include "sum_sink.hpp"

namespace bench {

namespace {

constexpr uint32_t parallelism = 2;

using update = std::pair<uint64_t, uint64_t>; // (key, value)

uint64_t enrichment_keys(const options& opt) {
  return sized(opt, 1'000'000, 10'000);
}

uint64_t enrichment_events(const options& opt) {
  return sized(opt, 10'000'000, 200'000);
}

uint64_t key_of_event(uint64_t j, uint64_t keys) {
  return mix64(j) % keys;
}

/// What the checksum adds for event `j` enriched with `value`.
uint64_t enriched(uint64_t value, uint64_t j) {
  return mix64(value ^ j);
}

/// The keyed co-process: updates set the key's value (and enrich the events that waited for
/// it), events are enriched with it; each instance emits its sum at the end. The state handles
/// are taken once, on the first record, as a function would in `open`.
struct enrich {
  using context = sluice::keyed_context<uint64_t, uint64_t>;

  uint64_t sum = 0;
  std::optional<sluice::value_state<uint64_t, uint64_t>> value;
  std::optional<sluice::list_state<uint64_t, uint64_t>> waiting;

  void process_first(const update& u, context& ctx) {
    handles(ctx);
    value->update(u.second);
    for (auto j : waiting->take())
      sum += enriched(u.second, j);
  }

  void process_second(const uint64_t& j, context& ctx) {
    handles(ctx);
    if (auto v = value->value())
      sum += enriched(*v, j);
    else
      waiting->add(j);
  }

  void on_end(sluice::context<uint64_t>& ctx) { ctx.emit(sum); }

  void handles(context& ctx) {
    if (!value) {
      value.emplace(ctx.value<uint64_t>("value"));
      waiting.emplace(ctx.list<uint64_t>("waiting"));
    }
  }
};

measurement run_sluice_enrichment(const options& opt) {
  auto keys = enrichment_keys(opt);
  auto events = enrichment_events(opt);
  auto cfg = runtime_config(opt);
  cfg.state = sluice::state_backend::lmdb;
  cfg.state_dir = child_state_dir();
  sluice::runtime rt{cfg};
  sluice::pipeline p{"enrichment"};
  sum_sink sink;
  auto acc = sink.acc;
  auto updates = p.source(sluice::generate<update>(
    [](uint64_t i) {
      return update{i, mix64(i)};
    },
    {.count = keys}));
  auto lookups =
    p.source(sluice::generate<uint64_t>([](uint64_t j) { return j; }, {.count = events}))
      .parallelism(parallelism);
  updates.key_by(&update::first)
    .connect(lookups.key_by([keys](const uint64_t& j) { return key_of_event(j, keys); }))
    .process<uint64_t>(enrich{})
    .parallelism(parallelism)
    .sink(sink);
  return timed_run(rt, p, keys + events, [&] { return acc->load(); });
}

measurement run_bare_enrichment(const options& opt) {
  auto keys = enrichment_keys(opt);
  auto events = enrichment_events(opt);
  return timed(keys + events, [&] {
    std::unordered_map<uint64_t, uint64_t> values;
    for (uint64_t i = 0; i < keys; ++i)
      values[i] = mix64(i);
    uint64_t sum = 0;
    for (uint64_t j = 0; j < events; ++j)
      sum += enriched(values.at(key_of_event(j, keys)), j);
    return sum;
  });
}

} // namespace

workload enrichment_workload() {
  return {
    "enrichment",
    "updates of 10^6 keys (p=1) + 10^7 events (p=2) -> keyed connect -> keyed co-process: "
    "look up each event's key (p=2, LMDB) -> sink",
    {
      {"sluice", "Sluice keyed two-input process at parallelism 2", false, run_sluice_enrichment},
      {"bare_loop", "one thread: std::unordered_map filled, then the same lookups", true,
       run_bare_enrichment},
    }};
}

} // namespace bench
