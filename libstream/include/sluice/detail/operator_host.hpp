#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include <caf/typed_event_based_actor.hpp>

#include "sluice/context.hpp"
#include "sluice/detail/barrier_aligner.hpp"
#include "sluice/detail/host_core.hpp"
#include "sluice/detail/input_gate.hpp"
#include "sluice/detail/instance_time.hpp"
#include "sluice/detail/replayer.hpp"
#include "sluice/interfaces.hpp"
#include "sluice/operator.hpp"

namespace sluice::detail {

/// Hosts an operator (or a sink) as an actor: a thin dispatcher between CAF messages and the
/// parts that do the work — the input gate (duplicates, queue, credit), the barrier aligner, the
/// instance's time (watermarks, processing time), the input replayer (recovery) and the output
/// channels — calling the operator's hooks in between (docs/architecture.md, "The operator
/// host").
template <operator_type Op>
class operator_host : public host_actor<typename Op::input_type, typename Op::output_type>::base {
public:
  using in_type = typename Op::input_type;
  using out_type = typename Op::output_type;
  using handle_type = host_actor<in_type, out_type>;
  using super = typename handle_type::base;
  using behavior_type = typename handle_type::behavior_type;

  operator_host(caf::actor_config& cfg, Op op, instance_info info, runtime_config config,
                instance_services<out_type> services)
    : super(cfg),
      op_(std::move(op)),
      core_(std::move(info), config, std::move(services)),
      ctx_(core_.collected, core_.info, core_.state),
      gate_(config.input_buffer, config.input_buffer_limit),
      aligner_(0, core_.info.restore_checkpoint.value_or(0)),
      time_(op_, core_, ctx_) {
    core_.stats.input_credit_limit = static_cast<int64_t>(gate_.window_limit());
  }

  const char* name() const override { return "sluice.operator_host"; }

  // Upstream and downstream instances hold handles to each other: drop ours at exit so the
  // cycle does not keep finished instances alive. State and retained records are freed off the
  // scheduler: a failed instance is often freed by the upstream that is to replay to its
  // successor.
  void on_exit() override {
    core_.release_on_exit();
    upstreams_.clear();
    gate_.clear();
  }

  behavior_type make_behavior() override {
    return {
      [this](batch<in_type>& b) { on_data(std::move(b)); },
      [this](credit_msg c) {
        core_.out.add_credit(c);
        resume();
      },
      [this](watermark_msg m) { on_marker(m); },
      [this](idle_msg m) { on_marker(m); },
      [this](end_of_stream_msg m) { on_marker(m); },
      [this](barrier_msg m) { on_marker(m); },
      [this](cancel_msg m) { on_marker(m); },
      [this](attach_upstream_msg<in_type>& m) { on_upstream_hello(m); },
      [this](attach_downstream_msg<out_type>& m) {
        if (auto error = core_.out.attach(m.output, std::move(m.target), m.incarnation,
                                          m.resume_seq, m.credit))
          return fail_protocol(*error);
        resume();
      },
      [this](start_atom) { start(); },
      [](trigger_checkpoint_msg) {}, // only sources start checkpoints and end streams
      [](finish_atom) {},
      [this](checkpoint_done_msg m) { on_checkpoint_done(m.checkpoint); },
      [this](inject_fault_msg m) { core_.arm_fault(m); },
      [this](flush_atom) {
        core_.flush_scheduled = false;
        core_.out.flush();
        drain();
      },
      [](produce_atom) {},
      [this](clock_atom) { on_clock(); },
      [this](inspect_atom) {
        auto s = core_.snapshot();
        if constexpr (requires { op_.late_records(); })
          s.records_late = op_.late_records();
        return s;
      },
      [this](wiring<in_type, out_type>& w) { on_wiring(w); },
    };
  }

private:
  using event = input_event<in_type>;

  /// The upstream instance of an input channel, and its output index for the channel.
  struct upstream {
    output_actor<in_type> actor;
    uint32_t output = 0;
  };

  void on_wiring(wiring<in_type, out_type>& w) {
    core_.configure(this, w, ctx_);
    upstreams_.clear();
    std::vector<uint32_t> incarnations;
    for (auto& wired : w.inputs) {
      upstreams_.push_back({std::move(wired.upstream), wired.output});
      incarnations.push_back(wired.incarnation);
    }
    gate_.reset(incarnations);
    aligner_.resize(upstreams_.size());
    time_.resize(upstreams_.size());
  }

  void start() {
    failure_report what;
    if constexpr (requires { op_.open(ctx_); }) {
      if (!core_.call([&] { op_.open(ctx_); }, what))
        return fail(what);
    }
    if (core_.recovery.restarted)
      return restart();
    if (!time_.start(what))
      return fail(what);
    core_.phase = instance_phase::running;
    tick();
    if (core_.failed())
      return;
    for (auto& up : upstreams_)
      core_.send(
        this, up.actor,
        credit_msg{up.output, static_cast<int64_t>(gate_.input_buffer()), core_.info.incarnation});
    if (upstreams_.empty())
      return finish_inputs();
    drain(); // what came before the start
  }

  /// A new incarnation: takes its channels' positions from the restored checkpoint, asks its
  /// upstream instances to send from there and its downstream instances where to resume, and
  /// replays what the log holds.
  void restart() {
    failure_report what;
    const auto* where = core_.resume_from_log(what);
    if (!where)
      return fail(what);
    restore_markers(*where);
    core_.phase = replayer_.start(*core_.log(), where->order_mark, upstreams_.size())
                    ? instance_phase::replaying
                    : instance_phase::running;
    for (channel_index i = 0; i < upstreams_.size(); ++i) {
      gate_.resume_at(i, i < where->inputs.size() ? where->inputs[i] : 0);
      core_.send(this, upstreams_[i].actor,
                 attach_downstream_msg<in_type>{upstreams_[i].output, input_actor<in_type>{this},
                                                core_.info.incarnation, gate_.at(i).next,
                                                static_cast<int64_t>(gate_.input_buffer())});
    }
    if constexpr (!std::is_same_v<out_type, no_output>)
      core_.out.say_hello(output_actor<out_type>{this});
    if (upstreams_.empty())
      finish_inputs();
  }

  /// Takes up the inputs' markers as they stood at the restored checkpoint: the replay goes on
  /// from there.
  void restore_markers(const recovery_log::position& where) {
    time_.restore(where, upstreams_.size());
    for (channel_index i = 0; i < upstreams_.size(); ++i)
      if (time_.watermarks().ended(i))
        aligner_.on_end(i);
  }

  /// A restarted upstream instance says hello: from now on the channel is its, resuming after
  /// what arrived from the failed one, with the credit that is free.
  void on_upstream_hello(attach_upstream_msg<in_type>& m) {
    if (m.channel >= upstreams_.size())
      return fail_protocol("hello on unknown input channel " + std::to_string(m.channel));
    upstreams_[m.channel] = {std::move(m.upstream), m.upstream_output};
    auto credit = gate_.reattach(m.channel, m.incarnation);
    core_.send(
      this, upstreams_[m.channel].actor,
      attach_downstream_msg<in_type>{m.upstream_output, input_actor<in_type>{this},
                                     core_.info.incarnation, gate_.at(m.channel).next, credit});
  }

  /// Checks an arriving message of `n` elements, `records` of them records, with the gate:
  /// false to drop it (the instance fails on a gap).
  bool accepted(channel_index channel, uint64_t seq, uint64_t n, uint64_t records,
                uint32_t incarnation, uint64_t& skip) {
    using verdict = typename input_gate<in_type>::admission::verdict;
    auto a = gate_.accept(channel, seq, n, incarnation);
    skip = a.skip;
    switch (a.what) {
      case verdict::accepted:
        return true;
      case verdict::duplicate:
        grant(channel, records); // a duplicate batch still took credit; a marker takes none
        return false;
      case verdict::stale:
        return false;
      case verdict::gap:
        fail_protocol("input channel lost elements " + std::to_string(gate_.at(channel).next)
                      + " to " + std::to_string(seq - 1));
        return false;
    }
    return false;
  }

  void on_data(batch<in_type>&& b) {
    if (b.channel >= upstreams_.size())
      return fail_protocol("batch on unknown input channel " + std::to_string(b.channel));
    uint64_t skip = 0;
    if (!accepted(b.channel, b.seq, b.records.size(), b.records.size(), b.incarnation, skip))
      return;
    if (skip > 0) {
      b.records.erase(b.records.begin(), b.records.begin() + static_cast<std::ptrdiff_t>(skip));
      b.seq += skip;
      grant(b.channel, skip);
    }
    auto replaying = core_.phase == instance_phase::replaying;
    gate_.note_queued(b.channel, b.records.size(), b.sender_waits, replaying);
    core_.stats.peak_queued_per_channel = gate_.peak_queued_per_channel();
    if (replaying) {
      // Credit for what waits for its turn in the log is returned at once (input_replayer).
      grant(b.channel, b.records.size());
      replayer_.arrive(std::move(b));
      return replay();
    }
    enqueue(std::move(b));
  }

  template <class Marker>
  void on_marker(Marker m) {
    if (m.channel >= upstreams_.size())
      return fail_protocol("marker on unknown input channel " + std::to_string(m.channel));
    uint64_t skip = 0;
    if (!accepted(m.channel, m.seq, 1, 0, m.incarnation, skip))
      return;
    if (core_.phase == instance_phase::replaying) {
      replayer_.arrive(m);
      return replay();
    }
    admit(m);
    drain();
  }

  void enqueue(batch<in_type>&& b) {
    if (gate_.holding(b.channel)) {
      gate_.admit(std::move(b));
    } else if (core_.phase == instance_phase::running && gate_.queue().empty()
               && !core_.out.blocked()) {
      // The common case: nothing waits ahead of this batch, so it skips the queue.
      core_.note_blocked(false);
      handle(b);
    } else {
      gate_.admit(std::move(b));
    }
    drain();
  }

  /// Queues an accepted element; a barrier to align makes its channel hold what follows it.
  void admit(event&& e) {
    auto channel = channel_of<in_type>(e);
    bool holds = gate_.holding(channel);
    if (const auto* b = std::get_if<barrier_msg>(&e);
        !holds && b && aligner_.aligns(b->checkpoint)) {
      gate_.admit(std::move(e));
      return hold(channel);
    }
    gate_.admit(std::move(e));
  }

  void hold(channel_index channel) {
    if (gate_.hold(channel))
      alignment_started_ = clock::now();
  }

  void release(channel_index channel) {
    gate_.release(channel, [this](event&& e) { admit(std::move(e)); });
  }

  /// Goes on after output credit or an attach: sends what is left when finishing, else
  /// handles what waits.
  void resume() {
    if (core_.finishing())
      core_.try_finish(this);
    else
      drain();
  }

  /// Handles queued input while output credit allows; flushes when the input runs dry.
  void drain() {
    if (core_.phase == instance_phase::wired)
      return; // markers need no credit, so they may come before `start`: they wait for it
    if (core_.phase == instance_phase::replaying)
      return replay();
    auto& queue = gate_.queue();
    while (!queue.empty() && !core_.stopped()) {
      if (core_.out.blocked()) {
        core_.stop_for_credit();
        return;
      }
      core_.note_blocked(false);
      std::visit([this](auto& x) { handle(x); }, queue.front());
      queue.pop_front();
    }
    core_.note_blocked(false);
    if (core_.stopped())
      return;
    time_.arm_clock(this);
    core_.watch_retention(this);
    core_.stats.queued_records = gate_.queued();
    if (queue.empty() && this->mailbox().empty()) {
      core_.out.flush();
      for (channel_index i = 0; i < upstreams_.size(); ++i)
        send_credit(i, gate_.starved(i));
    } else
      core_.arm_flush(this);
  }

  /// Handles what arrived in the order the log gives; once the log is done, goes on as usual
  /// with what arrived meanwhile.
  void replay() {
    while (core_.phase == instance_phase::replaying) {
      using step = typename input_replayer<in_type>::step;
      switch (replayer_.next([this](auto& element) { handle(element); })) {
        case step::handled:
          continue;
        case step::waiting:
          core_.arm_flush(this);
          return; // more input resumes the replay
        case step::finished:
          return end_replay();
        case step::corrupt:
          return fail_protocol("the recovery log names an unknown input channel");
      }
    }
  }

  void end_replay() {
    core_.phase = instance_phase::running;
    tick();
    replayer_.finish([this](event&& e) {
      if (auto* b = std::get_if<batch<in_type>>(&e))
        enqueue(std::move(*b));
      else
        admit(std::move(e));
    });
    drain();
  }

  /// Counts `n` handled elements of input `channel`, in the log unless replaying it; returns
  /// the credit that `records` of them earned.
  uint64_t note_handled(channel_index channel, uint64_t n, uint64_t records) {
    if (core_.log() && core_.phase != instance_phase::replaying)
      core_.log()->handled(channel, n);
    return gate_.note_handled(channel, n, records);
  }

  void grant(channel_index channel, uint64_t n) { send_credit(channel, gate_.grant(channel, n)); }

  void send_credit(channel_index channel, uint64_t credit) {
    if (credit > 0)
      core_.send(this, upstreams_[channel].actor,
                 credit_msg{upstreams_[channel].output, static_cast<int64_t>(credit),
                            core_.info.incarnation});
  }

  void handle(batch<in_type>& b) {
    if (core_.phase == instance_phase::running) {
      tick();
      if (core_.failed())
        return;
    }
    auto n = b.records.size();
    auto earned = note_handled(b.channel, n, n);
    core_.stats.records_in += n;
    ++core_.stats.batches_in;
    failure_report what;
    if (!core_.timed([&] {
          return core_.call(
            [&] {
              core_.inject();
              op_.on_batch(b.records, ctx_);
            },
            what);
        }))
      return fail(what);
    grant(b.channel, earned);
    time_.after_batch();
  }

  void handle(watermark_msg& m) {
    (void)note_handled(m.channel, 1, 0);
    failure_report what;
    if (!time_.advance(m.channel, m.time, what))
      fail(what);
  }

  void handle(idle_msg& m) {
    (void)note_handled(m.channel, 1, 0);
    failure_report what;
    if (!time_.set_idle(m.channel, m.idle, what))
      fail(what);
  }

  void handle(barrier_msg& m) {
    (void)note_handled(m.channel, 1, 0);
    if (!aligner_.aligns(m.checkpoint)) {
      if (gate_.holding(m.channel))
        release(m.channel); // it held back what followed this barrier
      return;
    }
    auto step =
      aligner_.on_barrier(m.channel, m.checkpoint, [this](size_t i) { release(channel(i)); });
    pass_on_cancel(step.cancel_below);
    hold(m.channel);
    complete_alignment();
  }

  void handle(cancel_msg& m) {
    (void)note_handled(m.channel, 1, 0);
    auto step = aligner_.on_cancel(m.below, [this](size_t i) { release(channel(i)); });
    pass_on_cancel(step.cancel_below);
  }

  void pass_on_cancel(uint64_t below) {
    if (below > 0)
      core_.out.broadcast(cancel_msg{0, below});
  }

  /// Takes the checkpoint being aligned once every input that has not ended delivered its
  /// barrier: lets the operator emit what it buffers, writes the state, forwards the barrier,
  /// acknowledges, and releases what the inputs held back.
  void complete_alignment() {
    if (core_.failed())
      return;
    auto id = aligner_.aligned();
    if (!id)
      return;
    failure_report what;
    if constexpr (requires { op_.on_checkpoint(*id, ctx_); }) {
      if (!core_.call([&] { op_.on_checkpoint(*id, ctx_); }, what))
        return fail(what);
    }
    if (!time_.save(what))
      return fail(what);
    if (!core_.take_checkpoint(this, *id, nanos_since(alignment_started_)))
      return;
    core_.out.broadcast(barrier_msg{0, *id});
    aligner_.passed(*id);
    recovery_log::position where;
    where.inputs = gate_.handled_positions();
    where.watermarks = time_.watermarks();
    where.processing_time = ctx_.current_processing_time();
    core_.note_checkpoint(*id, std::move(where));
    for (channel_index i = 0; i < gate_.size(); ++i)
      release(i);
  }

  void on_checkpoint_done(uint64_t id) {
    if (!core_.complete_checkpoint(this, id))
      return;
    failure_report what;
    if constexpr (requires { op_.on_checkpoint_complete(id, ctx_); }) {
      if (!core_.call([&] { op_.on_checkpoint_complete(id, ctx_); }, what))
        return fail(what);
    }
  }

  void handle(end_of_stream_msg& m) {
    (void)note_handled(m.channel, 1, 0);
    if (time_.watermarks().ended(m.channel))
      return;
    aligner_.on_end(m.channel);
    failure_report what;
    if (!time_.end(m.channel, what))
      return fail(what);
    complete_alignment(); // an ended input has nothing more to align
    if (core_.failed())
      return;
    if (!time_.watermarks().all_ended())
      return time_.update_idle();
    finish_inputs();
  }

  /// Moves the processing-time clock on to the wall clock (instance_time).
  void tick() {
    failure_report what;
    if (!time_.tick(what))
      fail(what);
  }

  /// A logged step of the processing-time clock, replayed.
  void handle(recovery_log::clock_tick& t) {
    failure_report what;
    if (!time_.move_clock(t.time, what))
      fail(what);
  }

  void on_clock() {
    failure_report what;
    if (!time_.on_clock(core_.phase == instance_phase::running, what))
      return fail(what);
    drain();
  }

  /// Every input has ended: run the end hook, then send end of stream behind the last records.
  void finish_inputs() {
    failure_report what;
    if constexpr (requires { op_.on_end(ctx_); }) {
      if (!core_.call([&] { op_.on_end(ctx_); }, what))
        return fail(what);
    }
    if (!upstreams_.empty())
      time_.finish();
    core_.end_stream(this);
  }

  static channel_index channel(size_t i) { return static_cast<channel_index>(i); }

  void fail(const failure_report& what) { core_.fail(this, what); }

  void fail_protocol(std::string what) { fail(protocol_failure(std::move(what))); }

  Op op_;
  host_core<out_type> core_;
  context<out_type> ctx_;
  std::vector<upstream> upstreams_;
  input_gate<in_type> gate_;
  barrier_aligner aligner_;
  clock::time_point alignment_started_{};
  instance_time<Op> time_;
  input_replayer<in_type> replayer_;
};

} // namespace sluice::detail
