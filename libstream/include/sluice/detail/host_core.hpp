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
#include "sluice/detail/round_trip.hpp"
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

/// Why an instance fails: the error code, what it concerns (a path, topic or key) and what
/// went wrong.
struct failure_report {
  errc code = errc::user_code;
  std::string subject;
  std::string what;

  /// The same failure, said to have happened while doing `doing`.
  [[nodiscard]] failure_report during(const std::string& doing) const {
    return {code, subject, doing + ": " + what};
  }
};

/// A failure of Sluice's own protocol (see errc::protocol).
inline failure_report protocol_failure(std::string what) {
  return {errc::protocol, {}, std::move(what)};
}

/// Calls `fn`, turning an exception into a failure report: a `sluice::failure` keeps its code
/// and subject, anything else thrown is the user code's. Returns false if it threw.
template <class F>
bool guarded(F&& fn, failure_report& report) {
  try {
    fn();
    return true;
  } catch (const failure& e) {
    report = {e.code(), e.subject(), e.what()};
  } catch (const std::exception& e) {
    report = {errc::user_code, {}, e.what()};
  } catch (...) {
    report = {errc::user_code, {}, "unknown exception"};
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
  host_core(instance_info info_arg, const runtime_config& config_arg,
            instance_services<Out> services_arg)
    : info(std::move(info_arg)),
      config(config_arg),
      services(std::move(services_arg)),
      state(instance_state_options(config, info.pipeline, info.operator_name, info.index,
                                   info.restore_checkpoint)) {
    collected.bind(out, config.batch_size);
  }

  host_core(const host_core&) = delete;
  host_core& operator=(const host_core&) = delete;

  instance_info info;
  runtime_config config;
  instance_services<Out> services;
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
  /// How this incarnation starts, as far as recovery goes.
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
  bool call(F&& hook, failure_report& what) {
    auto ok = guarded(hook, what);
    collected.drain();
    return ok;
  }

  /// A restarted incarnation: where its log puts the restored checkpoint, with the output
  /// channels going on from there (and sending nothing until their downstream attaches). Null,
  /// with `what` saying why, if the log cannot tell.
  const recovery_log::position* resume_from_log(failure_report& what) {
    const recovery_log::position* where = nullptr;
    if (!guarded(
          [&] {
            where =
              &services.log->restart(info.restore_checkpoint.value_or(0), recovery.keep_order);
          },
          what)) {
      what.code = errc::protocol;
      return nullptr;
    }
    out.resume_at(where->outputs, where->emitted);
    if (dead_letters.store)
      dead_letters.store->recover(instance_number, info.restore_checkpoint.value_or(0));
    return where;
  }

  /// The recovery log, null when the job takes no checkpoints.
  [[nodiscard]] recovery_log* log() const noexcept { return services.log.get(); }

  /// Sends a message to another actor (serialized on the way with
  /// `runtime_config::serialize_messages`).
  template <class Dest, class Message>
  void send(caf::local_actor* self, const Dest& dest, Message&& msg) {
    if (config.serialize_messages) [[unlikely]]
      send_from(self, dest, round_trip(self->system(), msg));
    else
      send_from(self, dest, std::forward<Message>(msg));
  }

  /// Takes the wiring's outputs, coordinator and recovery settings.
  template <class In, class Context>
  void configure(caf::local_actor* self, wiring<In, Out>& w, Context& ctx) {
    out.configure(actor_transport<Out>{self, config.serialize_messages}, std::move(w.outputs),
                  services.key_hashes, config.batch_size, info.incarnation,
                  services.log != nullptr);
    coordinator = std::move(w.coordinator);
    instance_number = w.instance_number;
    recovery = std::move(w.recovery);
    stats.restarts = info.incarnation;
    stats.last_failure = recovery.last_failure;
    dead_letters.store = services.dead_letters;
    dead_letters.instance_number = instance_number;
    host_access::skip_failed_records_to(ctx, dead_letters.store ? &dead_letters : nullptr);
  }

  /// True for a checkpoint a failed incarnation took part in and that was abandoned: a replay
  /// passes its barrier on without taking it again.
  [[nodiscard]] bool abandoned(uint64_t id) const noexcept {
    return recovery.restarted && id <= recovery.abandoned_through;
  }

  /// Notes in the recovery log where the channels stand after checkpoint `id`'s barrier: the
  /// outputs here, the inputs (and what else the host keeps of them) in `where`.
  void note_checkpoint(uint64_t id, recovery_log::position where = {}) {
    if (!log() || abandoned(id))
      return;
    where.outputs = out.positions();
    where.emitted = out.records_emitted();
    log()->took(id, std::move(where));
  }

  /// Arms a fault injected for tests, counting records from now.
  void arm_fault(const inject_fault_msg& m) {
    fault = m;
    fault_counted_from = stats.records_in;
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
    failure_report what;
    uint64_t bytes = 0;
    if (!guarded([&] { bytes = state.checkpoint(id); }, what)) {
      fail(self, what.during("checkpoint " + std::to_string(id)));
      return false;
    }
    if (dead_letters.store)
      dead_letters.store->stage(instance_number, id);
    stats.checkpoint_taken = id;
    stats.checkpoint_alignment_ns = alignment_ns;
    stats.checkpoint_write_ns = nanos_since(start);
    send(self, coordinator,
         checkpoint_ack_msg{id, instance_number, alignment_ns, stats.checkpoint_write_ns, bytes});
    return true;
  }

  /// Checkpoint `id` completed: applies its state changes and frees what was retained for it.
  bool complete_checkpoint(caf::scheduled_actor* self, uint64_t id) {
    failure_report what;
    if (!guarded([&] { state.complete(id); }, what)) {
      fail(self, what.during("completing checkpoint " + std::to_string(id)));
      return false;
    }
    out.release(id);
    recheck_retention(self);
    if (log())
      log()->completed(id);
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
    if (over_retention || !services.retention || retained <= config.retention_limit)
      return;
    over_retention = true;
    services.retention->close();
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
      services.retention->open();
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
    if (out.empty() && (!log() || out.channel_count() == 0))
      self->quit();
  }

  /// Exits with an error naming the instance and what the failure concerns.
  void fail(caf::scheduled_actor* self, const failure_report& report) {
    phase = instance_phase::failed;
    error_info e;
    e.code = e.cause = report.code;
    e.pipeline = info.pipeline;
    e.operator_name = info.operator_name;
    e.instance = info.index;
    e.subject = report.subject;
    e.message = info.describe() + " failed: " + report.what;
    self->quit(make_error(e));
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
