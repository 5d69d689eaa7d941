// Workload "timers": generator (p=2, event time = index) -> key_by(one of 10^6 keys) -> keyed
// process (p=2) -> sink, with LMDB state.
//
// Every variant counts each key's records in keyed state. "sluice_timers": each record also
// registers an event-time timer 1000 ms (1000 records) after its own time; the watermark fires
// it, and on_timer adds the record's (key, time) to a checksum.
// "sluice_pending": each record's timer lies beyond the end of the input, so all 10^7 stay
// pending until the end fires them: the peak RSS of 10^7 pending timers, of which all but
// about 2^20 per instance spill to LMDB; "sluice_pending_memory": the same with an overlay of
// 2^24 entries, so that none spills. "no_timers" (the
// reference): the same job adding (key, time) to the checksum at once, without a timer.

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <utility>

#include "sluice/all.hpp"

#include "bench.hpp"
#include "sum_sink.hpp"

namespace bench {

namespace {

constexpr uint32_t parallelism = 2;

uint64_t timer_records(const options& opt) {
  return sized(opt, 10'000'000, 200'000);
}

uint64_t timer_keys(const options& opt) {
  return sized(opt, 1'000'000, 10'000);
}

/// What the checksum adds for a record of `key` at `time`.
uint64_t fingerprint(uint64_t key, sluice::timestamp time) {
  return mix64(key * 0x9e3779b97f4a7c15ull ^ static_cast<uint64_t>(time));
}

/// Counts the current key's records (the handle taken once, as a function would in `open`).
void count(std::optional<sluice::value_state<uint64_t, int64_t>>& seen,
           sluice::keyed_context<uint64_t, uint64_t>& ctx) {
  if (!seen)
    seen.emplace(ctx.value<int64_t>("seen"));
  seen->update(seen->value_or(0) + 1);
}

/// The keyed process with timers: counts each key's records in keyed state and registers a
/// timer `delay` ms after each record, which adds the record's fingerprint when it fires. Each
/// instance emits its sum at the end.
struct timed_sum {
  explicit timed_sum(sluice::timestamp after) : delay(after) {}

  sluice::timestamp delay = 0;
  uint64_t sum = 0;

  std::optional<sluice::value_state<uint64_t, int64_t>> seen;

  void process(const uint64_t&, sluice::keyed_context<uint64_t, uint64_t>& ctx) {
    count(seen, ctx);
    ctx.register_event_time_timer(ctx.current_time() + delay);
  }

  void on_timer(sluice::timestamp time, sluice::keyed_context<uint64_t, uint64_t>& ctx) {
    sum += fingerprint(ctx.key(), time - delay);
  }

  void on_end(sluice::context<uint64_t>& ctx) { ctx.emit(sum); }
};

/// The same job without timers (and so without a processing-time clock): it counts the records
/// alike and adds the fingerprint at once.
struct instant_sum {
  uint64_t sum = 0;

  std::optional<sluice::value_state<uint64_t, int64_t>> seen;

  void process(const uint64_t&, sluice::keyed_context<uint64_t, uint64_t>& ctx) {
    count(seen, ctx);
    sum += fingerprint(ctx.key(), ctx.current_time());
  }

  void on_end(sluice::context<uint64_t>& ctx) { ctx.emit(sum); }
};

template <class Process>
measurement run_timers(const options& opt, Process process,
                       size_t overlay_entries = sluice::runtime_config{}.state_overlay_entries) {
  auto n = timer_records(opt);
  auto keys = timer_keys(opt);
  auto cfg = runtime_config(opt);
  cfg.state = sluice::state_backend::lmdb;
  cfg.state_dir = child_state_dir();
  cfg.state_overlay_entries = overlay_entries;
  sluice::runtime rt{cfg};
  sluice::pipeline p{"timers"};
  sum_sink sink;
  auto acc = sink.acc;
  p.source(sluice::generate<uint64_t>(
             [](uint64_t i) { return i; }, {.count = n},
             [](uint64_t i, const uint64_t&) { return static_cast<sluice::timestamp>(i); }))
    .parallelism(parallelism)
    .key_by([keys](const uint64_t& i) { return mix64(i) % keys; })
    .template process<uint64_t>(std::move(process))
    .parallelism(parallelism)
    .sink(sink);
  return timed_run(rt, p, n, [&] { return acc->load(); });
}

} // namespace

workload timers_workload() {
  workload w{
    "timers",
    "generator(p=2) -> key_by(10^6 keys) -> keyed process: one event-time timer per "
    "record (p=2, LMDB) -> sink",
    {
      {"sluice_timers", "a timer per record, fired 1000 records later by the watermark", false,
       [](const options& o) { return run_timers(o, timed_sum{1000}); }},
      {"sluice_pending", "a timer per record, all pending until the end of input", false,
       [](const options& o) { return run_timers(o, timed_sum{sluice::timestamp{1} << 50}); }},
      {"sluice_pending_memory", "the same, none spilled (an overlay of 2^24 entries)", false,
       [](const options& o) {
         return run_timers(o, timed_sum{sluice::timestamp{1} << 50}, size_t{1} << 24);
       }},
      {"no_timers", "the same job without timers: the checksum at once", true,
       [](const options& o) { return run_timers(o, instant_sum{}); }},
    }};
  for (auto& v : w.variants)
    v.samples_memory = true;
  return w;
}

} // namespace bench
