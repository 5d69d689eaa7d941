#pragma once

#include <chrono>
#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include <caf/typed_event_based_actor.hpp>

#include "sluice/context.hpp"
#include "sluice/detail/host_core.hpp"
#include "sluice/detail/replayer.hpp"
#include "sluice/interfaces.hpp"
#include "sluice/operator.hpp"

namespace sluice::detail {

/// Hosts a source as an actor: produces while output credit allows, yielding to its mailbox
/// between slices so credit and control messages are never starved.
///
/// With recovery, it logs the record counts at which it sent barriers and ended its stream; a
/// restarted incarnation produces again from the restored splits and does those at the same
/// counts (`source_replayer`), so that it emits the very elements the failed one did.
template <source_type Src>
class source_host : public host_actor<no_input, typename Src::output_type>::base {
public:
  using out_type = typename Src::output_type;
  using handle_type = host_actor<no_input, out_type>;
  using super = typename handle_type::base;
  using behavior_type = typename handle_type::behavior_type;
  using marker = typename source_context<out_type>::marker;

  /// Batches produced per mailbox visit: large enough to amortize, small enough to yield.
  static constexpr int batches_per_slice = 8;

  source_host(caf::actor_config& cfg, Src src, instance_info info, runtime_config config,
              instance_services<out_type> services)
    : super(cfg),
      src_(std::move(src)),
      core_(std::move(info), config, std::move(services)),
      ctx_(core_.collected, core_.info, core_.state, [this](marker m) { on_source_marker(m); }) {}

  const char* name() const override { return "sluice.source_host"; }

  void on_exit() override { core_.release_on_exit(); }

  behavior_type make_behavior() override {
    return {
      [](batch<no_input>&) {},
      [](watermark_msg) {},
      [](idle_msg) {},
      [](end_of_stream_msg) {},
      [](barrier_msg) {},
      [](cancel_msg) {},
      [](attach_upstream_msg<no_input>&) {},
      [this](attach_downstream_msg<out_type>& m) {
        if (auto error = core_.out.attach(m.output, std::move(m.target), m.incarnation,
                                          m.resume_seq, m.credit))
          return fail_protocol(*error);
        catch_up();
        on_credit();
      },
      [this](trigger_checkpoint_msg m) {
        replayer_.defer_checkpoint(m.checkpoint);
        catch_up();
      },
      [this](checkpoint_done_msg m) { on_checkpoint_done(m.checkpoint); },
      [this](finish_atom) {
        if (core_.phase != instance_phase::waiting_to_finish)
          return;
        replayer_.defer_finish();
        catch_up();
      },
      [this](credit_msg c) {
        core_.out.add_credit(c);
        on_credit();
      },
      [this](start_atom) { start(); },
      [this](inject_fault_msg m) { core_.arm_fault(m); },
      [this](flush_atom) {
        core_.flush_scheduled = false;
        core_.out.flush();
      },
      [](clock_atom) {}, // a source keeps no processing time
      [this](produce_atom) {
        produce_scheduled_ = false;
        produce();
      },
      [this](inspect_atom) { return core_.snapshot(); },
      [this](wiring<no_input, out_type>& w) { core_.configure(this, w, ctx_); },
    };
  }

private:
  /// Where a source that can rewind keeps its splits: operator state, dealt out anew when the
  /// job is restored with another parallelism.
  static constexpr const char* splits_state = "source splits";

  static constexpr bool trails_other_sources = [] {
    if constexpr (requires { Src::trails_other_sources; })
      return Src::trails_other_sources;
    return false;
  }();

  void start() {
    failure_report what;
    if constexpr (requires { src_.open(ctx_); }) {
      if (!core_.call([&] { src_.open(ctx_); }, what))
        return fail(what);
    }
    if (!guarded([&] { restore_splits(); }, what))
      return fail(what);
    core_.phase = instance_phase::running;
    if (core_.recovery.restarted) {
      const auto* where = core_.resume_from_log(what);
      if (!where)
        return fail(what);
      replayer_.start(*core_.log(), where->events_mark);
      core_.phase = instance_phase::replaying;
      core_.out.say_hello(output_actor<out_type>{this});
    }
    produce();
  }

  void on_credit() {
    if (core_.finishing())
      core_.try_finish(this);
    else if (core_.phase != instance_phase::wired && !produce_scheduled_)
      produce();
    else
      core_.arm_flush(this);
  }

  void on_checkpoint_done(uint64_t id) {
    if (!core_.complete_checkpoint(this, id))
      return;
    if constexpr (requires { src_.on_checkpoint_complete(id); }) {
      failure_report what;
      if (!guarded([&] { src_.on_checkpoint_complete(id); }, what))
        return fail(what);
    }
  }

  /// The records emitted since the job started (or was restored).
  [[nodiscard]] uint64_t emitted() const noexcept { return core_.out.records_emitted(); }

  /// True while a restarted incarnation does again what the failed ones did; it does not wait
  /// for output credit meanwhile (see `input_replayer`). The first time it is not, the source
  /// runs as usual.
  bool replaying() {
    if (core_.phase != instance_phase::replaying)
      return false;
    if (replayer_.replaying(emitted()))
      return true;
    core_.phase = instance_phase::running;
    return false;
  }

  /// A marker of the source itself: sent on and logged, or held back while replaying.
  void on_source_marker(marker m) {
    core_.collected.drain(); // behind the records emitted before it
    if (replaying())
      return replayer_.hold(m);
    std::visit([this](auto& x) { send_marker(x); }, m);
  }

  /// Sends a marker on and logs it.
  template <class Marker>
  void send_marker(const Marker& m) {
    if constexpr (std::is_same_v<Marker, watermark_msg>)
      last_watermark_ = std::max(last_watermark_, m.time);
    core_.out.broadcast(m);
    if (core_.log())
      core_.log()->source_did({emitted(), m});
  }

  /// Once a replay is over, does what waited for it: the source's own markers, checkpoints
  /// triggered meanwhile, and the end of the stream.
  void catch_up() {
    if (!replayer_.has_deferred() || replaying() || core_.stopped())
      return;
    auto due = replayer_.take_deferred();
    for (auto& m : due.markers) {
      if (const auto* w = std::get_if<watermark_msg>(&m); w && w->time <= last_watermark_)
        continue; // a replayed watermark went further
      std::visit([this](auto& x) { send_marker(x); }, m);
    }
    for (auto id : due.checkpoints)
      checkpoint(id);
    if (due.finish)
      finish();
  }

  /// Takes checkpoint `id`: records the source's splits, then sends the barrier behind
  /// everything emitted so far; `replayed` when the log holds it already.
  void checkpoint(uint64_t id, bool replayed = false) {
    if (core_.failed())
      return;
    if (!core_.abandoned(id)) {
      failure_report what;
      if constexpr (requires { src_.checkpoint_splits(); }) {
        if (!guarded([&] { splits().update(src_.checkpoint_splits()); }, what))
          return fail(what.during("checkpoint " + std::to_string(id)));
      }
      if constexpr (requires { src_.on_checkpoint(id); }) {
        if (!guarded([&] { src_.on_checkpoint(id); }, what))
          return fail(what.during("checkpoint " + std::to_string(id)));
      }
    }
    if (!core_.take_checkpoint(this, id, 0))
      return;
    if (core_.finishing())
      return;
    if (replayed)
      core_.out.broadcast(barrier_msg{0, id});
    else
      send_marker(barrier_msg{0, id});
    core_.note_checkpoint(id);
  }

  /// When the job was restored from a checkpoint, continues from the splits it recorded (none,
  /// when a restore with more instances than splits left this one without).
  void restore_splits() {
    if constexpr (requires { src_.checkpoint_splits(); }) {
      if (core_.coordinator && core_.info.restore_checkpoint.value_or(0) > 0)
        src_.restore_splits(splits().get());
    }
  }

  auto splits() {
    using split_type = typename decltype(src_.checkpoint_splits())::value_type;
    return core_.state.template operator_list<split_type>(splits_state);
  }

  /// Does what the log holds at the current record count; returns how many records may be
  /// produced before the next logged event (all, past the log).
  uint64_t replay_due() {
    while (const auto* event = replayer_.next_logged()) {
      if (event->emitted > emitted())
        return event->emitted - emitted();
      replayer_.advance();
      std::visit([this](const auto& m) { replay(m); }, event->marker);
    }
    catch_up();
    return std::numeric_limits<uint64_t>::max();
  }

  /// Does again what the failed incarnation did: a barrier is a checkpoint taken again (its
  /// state and acknowledgement only if it was not abandoned), the end of the stream ends it.
  void replay(const barrier_msg& m) { checkpoint(m.checkpoint, true); }

  void replay(const end_of_stream_msg&) { core_.end_stream(this); }

  void replay(const watermark_msg& m) {
    last_watermark_ = std::max(last_watermark_, m.time);
    core_.out.broadcast(m);
  }

  void replay(const idle_msg& m) { core_.out.broadcast(m); }

  void produce() {
    if (core_.stopped() || core_.phase == instance_phase::waiting_to_finish)
      return;
    core_.watch_retention(this);
    if (retention_full() && !replaying()) {
      // Paused until a checkpoint frees retention; a replay goes on, since the checkpoint
      // that frees it waits for the replay to end.
      core_.note_blocked(true);
      core_.out.flush();
      return schedule_produce(retention_poll);
    }
    for (int i = 0; i < batches_per_slice; ++i) {
      auto budget = std::min<uint64_t>(core_.config.batch_size, replay_due());
      if (core_.stopped())
        return;
      if (core_.out.blocked() && !replaying()) {
        core_.stop_for_credit();
        return; // credit resumes us
      }
      core_.note_blocked(false);
      source_step step;
      failure_report what;
      if (!core_.timed([&] {
            return core_.call(
              [&] {
                core_.inject();
                step = src_.produce(ctx_, budget);
              },
              what);
          }))
        return fail(what);
      core_.stats.records_in = emitted();
      if (core_.log())
        core_.log()->source_emitted(emitted());
      switch (step.what) {
        case source_step::kind::more:
          continue;
        case source_step::kind::wait:
          core_.out.flush();
          schedule_produce(step.delay);
          return;
        case source_step::kind::done:
          return read_everything();
      }
    }
    core_.arm_flush(this);
    schedule_produce(std::chrono::microseconds{0});
  }

  /// True while an instance of the job retains more than the limit.
  [[nodiscard]] bool retention_full() const {
    return core_.services.retention && core_.services.retention->closed();
  }

  /// How often a source paused for retention looks whether it may go on.
  static constexpr std::chrono::microseconds retention_poll{500};

  void schedule_produce(std::chrono::microseconds delay) {
    produce_scheduled_ = true;
    if (delay.count() <= 0)
      this->send(handle_type{this}, produce_atom::value);
    else
      send_later(this, delay, caf::make_message(produce_atom::value));
  }

  /// The source has nothing more to read. Without checkpoints it ends its stream; with them it
  /// waits for the coordinator to take a final checkpoint first (`finish_atom`), so that the
  /// end of a bounded job is covered by a checkpoint too; one that trails the other sources
  /// reads everything only after that, and ends at once. A replay ends where the failed
  /// incarnation did.
  void read_everything() {
    if (!core_.coordinator || trails_other_sources)
      return finish();
    replay_due();
    if (core_.stopped())
      return;
    core_.phase = instance_phase::waiting_to_finish;
    core_.out.flush();
    core_.send(this, core_.coordinator, source_finished_msg{core_.instance_number});
  }

  void finish() {
    ctx_.emit_watermark(max_timestamp);
    if (core_.log())
      core_.log()->source_did({emitted(), end_of_stream_msg{0}});
    core_.end_stream(this);
  }

  void fail(const failure_report& what) { core_.fail(this, what); }

  void fail_protocol(std::string what) { fail(protocol_failure(std::move(what))); }

  Src src_;
  host_core<out_type> core_;
  source_context<out_type> ctx_;
  source_replayer<marker> replayer_;
  bool produce_scheduled_ = false;
  /// The newest watermark sent.
  timestamp last_watermark_ = min_timestamp;
};

} // namespace sluice::detail
