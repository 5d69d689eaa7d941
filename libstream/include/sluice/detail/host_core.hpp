#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <exception>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>

#include <caf/scheduled_actor.hpp>

#include "sluice/collector.hpp"
#include "sluice/config.hpp"
#include "sluice/context.hpp"
#include "sluice/detail/output_channels.hpp"
#include "sluice/detail/parking_work_stealing.hpp"
#include "sluice/detail/send_from.hpp"
#include "sluice/detail/wiring.hpp"
#include "sluice/error.hpp"
#include "sluice/interfaces.hpp"
#include "sluice/stats.hpp"

namespace sluice::detail {

using clock = std::chrono::steady_clock;

inline int64_t nanos_since(clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(clock::now() - start).count();
}

/// Calls `fn`, turning an exception into an error message; returns false if it threw.
template <class F>
bool guarded(F&& fn, std::string& what) {
  try {
    fn();
    return true;
  } catch (const std::exception& e) {
    what = e.what();
  } catch (...) {
    what = "unknown exception";
  }
  return false;
}

/// Where an instance is in its life: one named state instead of a set of flags.
enum class instance_phase {
  wired,             ///< spawned and wired, not started
  replaying,         ///< a restarted incarnation doing again what the failed one did
  running,           ///< taking input (or producing) as usual
  waiting_to_finish, ///< a source that read everything waits for the final checkpoint
  finishing,         ///< end of stream sent on; what is buffered still goes out
  failed,            ///< exited with an error
};

/// What every host has, whatever its input: identity, output channels, state, counters,
/// checkpoints and retention.
template <class Out>
struct host_core {
  host_core(instance_info info_arg, const runtime_config& config_arg)
    : info(std::move(info_arg)),
      config(config_arg),
      state(instance_state_options(config, info.pipeline, info.operator_name, info.index,
                                   info.restore_checkpoint)) {
    collected.bind(out);
  }

  host_core(const host_core&) = delete;
  host_core& operator=(const host_core&) = delete;

  instance_info info;
  runtime_config config;
  output_channels<Out> out;
  /// What the operator emits, handed to `out` after every hook.
  collector<Out> collected;
  state_store state;
  instance_stats stats;
  instance_phase phase = instance_phase::wired;
  clock::time_point started = clock::now();
  clock::time_point blocked_since{};
  bool blocked = false;
  /// Where checkpoints are acknowledged (null when the job takes none).
  coordinator_actor coordinator;
  uint32_t instance_number = 0;
  /// How the instance takes part in recovery; `recovery.log` is null without checkpoints.
  recovery_wiring recovery;
  /// A fault injected for tests: fail on record `fault.throw_at` counted from
  /// `fault_counted_from` records in.
  inject_fault_msg fault;
  uint64_t fault_counted_from = 0;
  /// Under `failure_policy::skip`: where records that user code failed on go.
  dead_letter_outbox dead_letters;
  /// The instance retains more than the limit and holds the retention gate closed.
  bool over_retention = false;
  bool flush_scheduled = false;

  [[nodiscard]] bool failed() const noexcept { return phase == instance_phase::failed; }
  [[nodiscard]] bool finishing() const noexcept { return phase == instance_phase::finishing; }
  /// True once the instance takes no more input: it failed or is finishing.
  [[nodiscard]] bool stopped() const noexcept { return failed() || finishing(); }

  /// Calls a hook of the operator and hands on what it emitted; false (with `what`) if it threw.
  template <class F>
  bool call(F&& hook, std::string& what) {
    auto ok = guarded(hook, what);
    collected.drain();
    return ok;
  }

  /// A restarted incarnation: where its log puts the restored checkpoint, with the output
  /// channels going on from there (and sending nothing until their downstream attaches). Null,
  /// with `what` saying why, if the log cannot tell.
  const recovery_log::position* resume_from_log(std::string& what) {
    const recovery_log::position* where = nullptr;
    if (!guarded(
          [&] {
            where =
              &recovery.log->restart(info.restore_checkpoint.value_or(0), recovery.keep_order);
          },
          what))
      return nullptr;
    out.resume_at(where->outputs, where->emitted);
    if (dead_letters.store)
      dead_letters.store->recover(instance_number, info.restore_checkpoint.value_or(0));
    return where;
  }

  /// Takes the wiring's outputs, coordinator and recovery settings.
  template <class In, class Context>
  void configure(caf::local_actor* self, wiring<In, Out>& w, Context& ctx) {
    out.configure(actor_transport<Out>{self}, std::move(w.outputs), config.batch_size,
                  info.incarnation, w.recovery.log != nullptr);
    coordinator = std::move(w.coordinator);
    instance_number = w.instance_number;
    recovery = std::move(w.recovery);
    stats.restarts = info.incarnation;
    stats.last_failure = recovery.last_failure;
    dead_letters.store = std::move(w.dead_letters);
    dead_letters.instance_number = instance_number;
    host_access::skip_failed_records_to(ctx, dead_letters.store ? &dead_letters : nullptr);
  }

  /// True for a checkpoint a failed incarnation took part in and that was abandoned: a replay
  /// passes its barrier on without taking it again.
  [[nodiscard]] bool abandoned(uint64_t id) const noexcept {
    return recovery.restarted && id <= recovery.abandoned_through;
  }

  /// Notes in the recovery log where the channels stand after checkpoint `id`'s barrier.
  void note_checkpoint(uint64_t id, std::vector<uint64_t> inputs) {
    if (recovery.log && !abandoned(id))
      recovery.log->took(id, {std::move(inputs), out.positions(), out.records_emitted(), 0, 0});
  }

  /// Applies an injected fault: sleeps, and throws on the chosen record.
  void inject() {
    if (fault.delay_us > 0)
      std::this_thread::sleep_for(std::chrono::microseconds{fault.delay_us});
    if (fault.throw_at > 0 && stats.records_in - fault_counted_from >= fault.throw_at) {
      auto at = fault.throw_at;
      fault.throw_at = 0;
      throw std::runtime_error("injected fault on record " + std::to_string(at));
    }
  }

  /// Runs `fn` and adds its duration to the busy time. Only every `busy_sample_every`-th call
  /// reads the clock (counting for all calls in between): two clock reads per batch would cost
  /// as much as a cheap operator's work on the batch.
  template <class F>
  decltype(auto) timed(F&& fn) {
    if (++busy_calls % busy_sample_every != 0)
      return fn();
    struct account {
      host_core& core;
      clock::time_point start = clock::now();
      ~account() { core.stats.busy_ns += busy_sample_every * nanos_since(start); }
    } busy{*this};
    return fn();
  }

  static constexpr uint64_t busy_sample_every = 8;
  uint64_t busy_calls = 0;

  /// Counts backpressured time: from when the instance becomes blocked until it is free.
  void note_blocked(bool now_blocked) {
    if (now_blocked == blocked)
      return;
    if (now_blocked)
      blocked_since = clock::now();
    else
      stats.backpressured_ns += nanos_since(blocked_since);
    blocked = now_blocked;
  }

  /// The instance stops taking input for lack of output credit on some channel. What the other
  /// channels buffer goes out now: held back, it could be what a downstream instance waits for
  /// to go on (the rest of a checkpoint's alignment, a replay's next element) while that one's
  /// upstream waits for this one's blocked channel, a cycle that no credit would break.
  void stop_for_credit() {
    note_blocked(true);
    out.flush();
  }

  instance_stats snapshot() {
    auto s = stats;
    s.pipeline = info.pipeline;
    s.operator_name = info.operator_name;
    s.instance = info.index;
    s.parallelism = info.parallelism;
    s.records_out = out.records_sent();
    s.records_skipped = dead_letters.skipped;
    s.records_retained = out.records_retained();
    s.batches_out = out.batches_sent();
    s.uptime_ns = nanos_since(started);
    if (blocked)
      s.backpressured_ns += nanos_since(blocked_since);
    out.fill_stats(s.output_credit, s.output_buffered);
    return s;
  }

  /// Writes the state of checkpoint `id` and acknowledges it; false (and the instance failed)
  /// if the state could not be written.
  bool take_checkpoint(caf::scheduled_actor* self, uint64_t id, int64_t alignment_ns) {
    if (abandoned(id))
      return true;
    auto start = clock::now();
    std::string what;
    uint64_t bytes = 0;
    if (!guarded([&] { bytes = state.checkpoint(id); }, what)) {
      fail(self, "checkpoint " + std::to_string(id) + ": " + what);
      return false;
    }
    if (dead_letters.store)
      dead_letters.store->stage(instance_number, id);
    stats.checkpoint_taken = id;
    stats.checkpoint_alignment_ns = alignment_ns;
    stats.checkpoint_write_ns = nanos_since(start);
    send_from(
      self, coordinator,
      checkpoint_ack_msg{id, instance_number, alignment_ns, stats.checkpoint_write_ns, bytes});
    return true;
  }

  /// Checkpoint `id` completed: applies its state changes and frees what was retained for it.
  bool complete_checkpoint(caf::scheduled_actor* self, uint64_t id) {
    std::string what;
    if (!guarded([&] { state.complete(id); }, what)) {
      fail(self, "completing checkpoint " + std::to_string(id) + ": " + what);
      return false;
    }
    out.release(id);
    recheck_retention(self);
    if (recovery.log)
      recovery.log->completed(id);
    if (dead_letters.store)
      dead_letters.store->commit(instance_number, id);
    stats.checkpoint_completed = id;
    return true;
  }

  /// Once the instance retains more than the limit, closes the retention gate (the sources
  /// pause) and asks for a checkpoint, whose completion frees what came before it.
  void watch_retention(caf::local_actor* self) {
    auto retained = out.records_retained();
    stats.peak_records_retained = std::max(stats.peak_records_retained, retained);
    if (over_retention || !recovery.retention || retained <= config.retention_limit)
      return;
    over_retention = true;
    recovery.retention->close();
    send_from(self, coordinator, retention_full_msg{instance_number});
  }

  /// After a checkpoint completed: opens the gate again if enough was freed, else asks for the
  /// next checkpoint at once.
  void recheck_retention(caf::local_actor* self) {
    if (!over_retention)
      return;
    if (out.records_retained() > config.retention_limit)
      send_from(self, coordinator, retention_full_msg{instance_number});
    else
      leave_retention();
  }

  /// Opens the gate if this instance held it closed (also when it exits).
  void leave_retention() noexcept {
    if (std::exchange(over_retention, false))
      recovery.retention->open();
  }

  /// Arms the flush timer when records could be sent but wait for a fuller batch.
  void arm_flush(caf::scheduled_actor* self) {
    if (flush_scheduled || !out.has_flushable_records())
      return;
    flush_scheduled = true;
    send_later(self, config.flush_delay, caf::make_message(flush_atom::value));
  }

  /// Sends end of stream behind the last records; the instance exits once all is sent.
  void end_stream(caf::scheduled_actor* self) {
    if (dead_letters.store)
      dead_letters.store->finish(instance_number);
    out.broadcast(end_of_stream_msg{0});
    phase = instance_phase::finishing;
    try_finish(self);
  }

  /// Sends what credit allows; exits when nothing is left to send. An instance that can be
  /// recovered stays, to replay what it retains to a restarted downstream instance, until the
  /// job ends.
  void try_finish(caf::scheduled_actor* self) {
    out.flush();
    if (out.empty() && (!recovery.log || out.channel_count() == 0))
      self->quit();
  }

  /// Exits with an error naming the instance.
  void fail(caf::scheduled_actor* self, const std::string& what) {
    phase = instance_phase::failed;
    self->quit(make_error(errc::operator_failed, info.describe() + " failed: " + what));
  }

  /// Frees what the instance holds as it exits: downstream handles, retained records (on a
  /// background thread, as the state's memory).
  void release_on_exit() {
    leave_retention();
    out.clear();
    state.release_memory();
  }
};

} // namespace sluice::detail
