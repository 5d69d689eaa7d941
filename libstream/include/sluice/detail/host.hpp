#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <deque>
#include <exception>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <variant>
#include <vector>

#include <caf/event_based_actor.hpp>
#include <caf/send.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "sluice/config.hpp"
#include "sluice/context.hpp"
#include "sluice/detail/output_channels.hpp"
#include "sluice/detail/parking_work_stealing.hpp"
#include "sluice/error.hpp"
#include "sluice/interfaces.hpp"
#include "sluice/operator.hpp"
#include "sluice/stats.hpp"
#include "sluice/watermark_tracker.hpp"

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

/// What every host has, whatever its input: identity, output channels, state, counters.
template <class Out>
struct host_core {
  host_core(instance_info info_arg, const runtime_config& config_arg)
    : info(std::move(info_arg)),
      config(config_arg),
      state(instance_state_options(config, info.pipeline, info.operator_name, info.index,
                                   info.restore_checkpoint)) {}

  instance_info info;
  runtime_config config;
  output_channels<Out> out;
  state_store state;
  instance_stats stats;
  clock::time_point started = clock::now();
  clock::time_point blocked_since{};
  bool blocked = false;
  bool finishing = false;
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
  bool failed = false;
  bool flush_scheduled = false;

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
    return where;
  }

  /// Takes the wiring's outputs, coordinator and recovery settings.
  template <class In>
  void configure(caf::local_actor* self, wiring<In, Out>& w) {
    out.configure(self, std::move(w.outputs), config.batch_size, info.incarnation,
                  w.recovery.log != nullptr);
    coordinator = std::move(w.coordinator);
    instance_number = w.instance_number;
    recovery = std::move(w.recovery);
    stats.restarts = info.incarnation;
    stats.last_failure = recovery.last_failure;
    dead_letters.store = std::move(w.dead_letters);
    dead_letters.instance_number = instance_number;
  }

  /// The outbox for the operator's context: null unless the instance skips failed records.
  [[nodiscard]] dead_letter_outbox* skipped_records_outbox() noexcept {
    return dead_letters.store ? &dead_letters : nullptr;
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

  /// Applies an injected fault to a batch of `n` records: sleeps, and throws on the chosen
  /// record.
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
  template <class Self>
  bool take_checkpoint(Self* self, uint64_t id, int64_t alignment_ns) {
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

  /// Checkpoint `id` completed: applies its state changes.
  template <class Self>
  bool complete_checkpoint(Self* self, uint64_t id) {
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
  template <class Self>
  void arm_flush(Self* self) {
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
    finishing = true;
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
    failed = true;
    self->quit(make_error(errc::operator_failed, info.describe() + " failed: " + what));
  }
};

/// Hosts an operator (or a sink) as an actor: does the credit protocol, watermarks, end of
/// stream and counters, and calls the operator's hooks.
///
/// With recovery (docs/architecture.md, "Recovery"), it drops elements it already has, logs the
/// order in which it handles its inputs, and, as a restarted incarnation, first replays its input
/// in the logged order.
template <operator_type Op>
class operator_host : public host_actor<typename Op::input_type, typename Op::output_type>::base {
public:
  using in_type = typename Op::input_type;
  using out_type = typename Op::output_type;
  using handle_type = host_actor<in_type, out_type>;
  using super = typename handle_type::base;
  using behavior_type = typename handle_type::behavior_type;

  operator_host(caf::actor_config& cfg, Op op, instance_info info, runtime_config config)
    : super(cfg),
      op_(std::move(op)),
      core_(std::move(info), config),
      ctx_(core_.out, core_.info, core_.state),
      grant_threshold_(std::max<uint64_t>(1, config.input_buffer / 2)),
      newest_barrier_(core_.info.restore_checkpoint.value_or(0)),
      passed_barrier_(newest_barrier_),
      passed_below_(newest_barrier_) {
    core_.stats.input_credit_limit = static_cast<int64_t>(config.input_buffer);
  }

  const char* name() const override { return "sluice.operator_host"; }

  // Upstream and downstream instances hold handles to each other: drop ours at exit so the
  // cycle does not keep finished instances alive. State and retained records are freed off the
  // scheduler: a failed instance is often freed by the upstream that is to replay to its
  // successor.
  void on_exit() override {
    core_.leave_retention();
    core_.out.clear();
    core_.state.release_memory();
    inputs_.clear();
  }

  behavior_type make_behavior() override {
    return {
      [this](batch<in_type>& b) { on_data(std::move(b)); },
      [this](credit_msg c) {
        core_.out.add_credit(c);
        if (core_.finishing)
          try_finish();
        else
          drain();
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
          return fail(*error);
        if (core_.finishing)
          try_finish();
        else
          drain();
      },
      [this](start_atom) { start(); },
      [](trigger_checkpoint_msg) {}, // only sources start checkpoints and end streams
      [](finish_atom) {},
      [this](checkpoint_done_msg m) { on_checkpoint_done(m.checkpoint); },
      [this](inject_fault_msg m) {
        core_.fault = m;
        core_.fault_counted_from = core_.stats.records_in;
      },
      [this](flush_atom) {
        core_.flush_scheduled = false;
        core_.out.flush();
        drain();
      },
      [](produce_atom) {},
      [this](inspect_atom) { return core_.snapshot(); },
      [this](wiring<in_type, out_type>& w) {
        core_.configure(this, w);
        ctx_.skip_failed_records_to(core_.skipped_records_outbox());
        inputs_.clear();
        for (auto& wired : w.inputs) {
          input_channel in;
          in.upstream = std::move(wired.upstream);
          in.upstream_output = wired.output;
          in.incarnation = wired.incarnation;
          inputs_.push_back(std::move(in));
        }
        watermarks_.resize(inputs_.size());
      },
    };
  }

private:
  using event = std::variant<batch<in_type>, watermark_msg, idle_msg, end_of_stream_msg,
                             barrier_msg, cancel_msg>;

  struct input_channel {
    output_actor<in_type> upstream;
    uint32_t upstream_output = 0;
    /// The incarnation of the upstream instance: what older ones sent is dropped.
    uint32_t incarnation = 0;
    /// The sequence numbers of the next element to arrive and of the next to be handled.
    uint64_t next = 0;
    uint64_t handled = 0;
    uint64_t queued = 0;
    /// Records processed but not yet granted back as credit, and records whose credit was
    /// granted back on arrival (during a replay) that are still to be processed.
    uint64_t ungranted = 0;
    uint64_t prepaid = 0;
    bool ended = false;
    /// The channel delivered the barrier of the checkpoint being aligned: what follows it
    /// waits in `held` until every input has delivered it.
    bool holding = false;
    /// The barrier was handled (everything before it processed).
    bool aligned = false;
    std::deque<event> held;
    /// What arrived while a restarted incarnation replays, waiting for its turn in the log.
    std::deque<event> replay;
  };

  void start() {
    std::string what;
    if constexpr (requires { op_.open(ctx_); }) {
      if (!guarded([&] { op_.open(ctx_); }, what))
        return fail(what);
    }
    if (core_.recovery.restarted)
      return restart();
    for (auto& in : inputs_)
      send_from(this, in.upstream,
                credit_msg{in.upstream_output, static_cast<int64_t>(core_.config.input_buffer),
                           core_.info.incarnation});
    if (inputs_.empty())
      finish_inputs();
  }

  /// A new incarnation: takes its channels' positions from the restored checkpoint, asks its
  /// upstream instances to send from there and its downstream instances where to resume, and
  /// replays what the log holds.
  void restart() {
    std::string what;
    const auto* where = core_.resume_from_log(what);
    if (!where)
      return fail(what);
    if (core_.dead_letters.store)
      core_.dead_letters.store->recover(core_.instance_number,
                                        core_.info.restore_checkpoint.value_or(0));
    replay_index_ = where->order_mark;
    replaying_ = core_.recovery.log->order_at(replay_index_) != nullptr;
    for (size_t i = 0; i < inputs_.size(); ++i) {
      auto& in = inputs_[i];
      in.next = in.handled = i < where->inputs.size() ? where->inputs[i] : 0;
      send_from(this, in.upstream,
                attach_downstream_msg<in_type>{in.upstream_output, input_actor<in_type>{this},
                                               core_.info.incarnation, in.next,
                                               static_cast<int64_t>(core_.config.input_buffer)});
    }
    if constexpr (!std::is_same_v<out_type, no_output>)
      core_.out.say_hello(output_actor<out_type>{this});
    if (inputs_.empty())
      finish_inputs();
  }

  /// A restarted upstream instance says hello: from now on the channel is its, resuming after
  /// what arrived from the failed one, with the credit that is free.
  void on_upstream_hello(attach_upstream_msg<in_type>& m) {
    if (m.channel >= inputs_.size())
      return fail("hello on unknown input channel " + std::to_string(m.channel));
    auto& in = inputs_[m.channel];
    in.upstream = std::move(m.upstream);
    in.upstream_output = m.upstream_output;
    in.incarnation = m.incarnation;
    in.ungranted = 0;
    // What is queued and not paid for already takes credit from the new incarnation's window.
    auto owed = static_cast<int64_t>(in.queued - in.prepaid);
    auto free = static_cast<int64_t>(core_.config.input_buffer) - owed;
    send_from(
      this, in.upstream,
      attach_downstream_msg<in_type>{in.upstream_output, input_actor<in_type>{this},
                                     core_.info.incarnation, in.next, std::max<int64_t>(free, 0)});
  }

  /// Checks an arriving message against what the channel delivered so far: returns how many of
  /// its `n` leading elements are new, from the `skip`-th on; 0 to drop it.
  uint64_t accept(input_channel& in, uint64_t seq, uint64_t n, uint32_t incarnation,
                  uint64_t& skip) {
    if (incarnation != in.incarnation)
      return 0; // sent by an incarnation that has since been replaced
    if (seq > in.next) {
      fail("input channel lost elements " + std::to_string(in.next) + " to "
           + std::to_string(seq - 1));
      return 0;
    }
    skip = in.next - seq;
    if (skip >= n)
      return 0;
    in.next = seq + n;
    return n - skip;
  }

  void on_data(batch<in_type>&& b) {
    if (b.channel >= inputs_.size())
      return fail("batch on unknown input channel " + std::to_string(b.channel));
    auto& in = inputs_[b.channel];
    uint64_t skip = 0;
    auto n = b.records.size();
    if (accept(in, b.seq, n, b.incarnation, skip) == 0) {
      if (b.incarnation == in.incarnation)
        grant(in, n); // a duplicate still took credit
      return;
    }
    if (skip > 0) {
      b.records.erase(b.records.begin(), b.records.begin() + static_cast<std::ptrdiff_t>(skip));
      b.seq += skip;
      grant(in, skip);
    }
    in.queued += b.records.size();
    queued_ += b.records.size();
    core_.stats.peak_queued_per_channel =
      std::max<uint64_t>(core_.stats.peak_queued_per_channel, in.queued);
    if (replaying_) {
      // Credit for what waits for its turn in the log is returned at once: the log may want
      // another channel first, whose upstream may need this one's upstream to go on. Holding
      // the credit back could close a cycle of instances waiting for each other; what waits is
      // bounded by what the upstream instances retained or regenerate since the checkpoint.
      in.prepaid += b.records.size();
      grant(in, b.records.size());
      in.replay.emplace_back(std::move(b));
      return replay();
    }
    enqueue(std::move(b));
  }

  template <class Marker>
  void on_marker(Marker m) {
    if (m.channel >= inputs_.size())
      return fail("marker on unknown input channel " + std::to_string(m.channel));
    auto& in = inputs_[m.channel];
    uint64_t skip = 0;
    if (accept(in, m.seq, 1, m.incarnation, skip) == 0)
      return;
    if (replaying_) {
      in.replay.emplace_back(m);
      return replay();
    }
    enqueue(m);
  }

  void enqueue(batch<in_type>&& b) {
    auto& in = inputs_[b.channel];
    if (in.holding) {
      in.held.emplace_back(std::move(b));
      return;
    }
    if (events_.empty() && !core_.failed && !core_.out.blocked()) {
      // The common case: nothing waits ahead of this batch, so it skips the queue.
      core_.note_blocked(false);
      handle(b);
    } else {
      events_.emplace_back(std::move(b));
    }
    drain();
  }

  template <class Marker>
  void enqueue(Marker m) {
    admit(event{m});
    drain();
  }

  /// Queues an arrived element behind those waiting, or holds it back if its channel holds.
  void admit(event&& e) {
    auto& in = inputs_[std::visit([](const auto& x) { return x.channel; }, e)];
    if (in.holding) {
      in.held.push_back(std::move(e));
      return;
    }
    if (const auto* b = std::get_if<barrier_msg>(&e); b && aligns(b->checkpoint))
      hold(in);
    events_.push_back(std::move(e));
  }

  /// True if a barrier of `checkpoint` is one to align: not of a checkpoint that an
  /// alignment already passed (see `handle(barrier_msg&)`).
  [[nodiscard]] bool aligns(uint64_t checkpoint) const noexcept {
    return checkpoint > newest_barrier_ || checkpoint == aligning_;
  }

  /// The channel holds back what arrives after a barrier until its checkpoint is aligned.
  void hold(input_channel& in) {
    if (in.holding)
      return;
    bool first = true;
    for (const auto& other : inputs_)
      first = first && !other.holding;
    if (first)
      alignment_started_ = clock::now();
    in.holding = true;
  }

  /// The channel stops holding back: what it held arrives now, in order.
  void release(input_channel& in) {
    in.holding = false;
    in.aligned = false;
    auto held = std::move(in.held);
    in.held.clear();
    for (auto& e : held)
      admit(std::move(e));
  }

  /// Processes queued input while output credit allows; flushes when the input runs dry.
  void drain() {
    if (replaying_)
      return replay();
    while (!events_.empty() && !core_.failed && !core_.finishing) {
      if (core_.out.blocked()) {
        core_.stop_for_credit();
        return;
      }
      core_.note_blocked(false);
      std::visit([this](auto& x) { handle(x); }, events_.front());
      events_.pop_front();
    }
    core_.note_blocked(false);
    if (core_.failed || core_.finishing)
      return;
    core_.watch_retention(this);
    core_.stats.queued_records = queued_;
    if (events_.empty() && this->mailbox().empty())
      core_.out.flush();
    else
      core_.arm_flush(this);
  }

  /// Handles what arrived in the order the log gives, while output credit allows; once the log
  /// is done, goes on as usual with what arrived meanwhile.
  void replay() {
    while (replaying_ && !core_.failed) {
      const auto* run = core_.recovery.log->order_at(replay_index_);
      if (!run)
        return end_replay();
      if (run->channel >= inputs_.size())
        return fail("the recovery log names unknown input channel " + std::to_string(run->channel));
      auto& in = inputs_[run->channel];
      // A replay does not wait for output credit (see `replaying_`).
      if (in.replay.empty()) {
        core_.arm_flush(this);
        return; // more input resumes the replay
      }
      auto wanted = run->elements - replayed_in_run_;
      auto& front = in.replay.front();
      uint64_t done = 1;
      if (auto* b = std::get_if<batch<in_type>>(&front); b && b->records.size() > wanted) {
        // The failed incarnation handled this batch's records in two turns.
        batch<in_type> head;
        head.channel = b->channel;
        head.seq = b->seq;
        head.incarnation = b->incarnation;
        head.records.assign(
          std::make_move_iterator(b->records.begin()),
          std::make_move_iterator(b->records.begin() + static_cast<std::ptrdiff_t>(wanted)));
        b->records.erase(b->records.begin(),
                         b->records.begin() + static_cast<std::ptrdiff_t>(wanted));
        b->seq += wanted;
        done = wanted;
        handle(head);
      } else {
        if (b)
          done = b->records.size();
        auto e = std::move(front);
        in.replay.pop_front();
        std::visit([this](auto& x) { handle(x); }, e);
      }
      replayed_in_run_ += done;
      if (replayed_in_run_ == run->elements) {
        ++replay_index_;
        replayed_in_run_ = 0;
      }
    }
  }

  /// The log is replayed: what arrived meanwhile is handled as it would have been on arrival.
  void end_replay() {
    replaying_ = false;
    for (auto& in : inputs_) {
      auto pending = std::move(in.replay);
      in.replay.clear();
      for (auto& e : pending)
        std::visit([this](auto& x) { enqueue(std::move(x)); }, e);
    }
    drain();
  }

  /// Counts `n` handled elements of input `channel`, in the log unless replaying it.
  void note_handled(channel_index channel, uint64_t n) {
    inputs_[channel].handled += n;
    if (core_.recovery.log && !replaying_)
      core_.recovery.log->handled(channel, n);
  }

  void handle(batch<in_type>& b) {
    auto n = b.records.size();
    auto& in = inputs_[b.channel];
    in.queued -= n;
    queued_ -= n;
    core_.stats.records_in += n;
    ++core_.stats.batches_in;
    note_handled(b.channel, n);
    std::string what;
    if (!core_.timed([&] {
          return guarded(
            [&] {
              core_.inject();
              op_.on_batch(b.records, ctx_);
            },
            what);
        }))
      return fail(what);
    auto paid = std::min(in.prepaid, n);
    in.prepaid -= paid;
    grant(in, n - paid);
  }

  /// Returns credit for `n` processed records to the channel's upstream, in lumps of half the
  /// input buffer: half the credit messages of granting per batch, and the upstream never
  /// stalls, since at most half its window is ever held back here.
  void grant(input_channel& in, uint64_t n) {
    if (n == 0)
      return;
    in.ungranted += n;
    if (in.ungranted < grant_threshold_)
      return;
    send_from(
      this, in.upstream,
      credit_msg{in.upstream_output, static_cast<int64_t>(in.ungranted), core_.info.incarnation});
    in.ungranted = 0;
  }

  void handle(watermark_msg& m) {
    note_handled(m.channel, 1);
    if (watermarks_.advance(m.channel, m.time))
      on_watermark();
    update_idle(); // a watermark makes an idle channel active again
  }

  void handle(idle_msg& m) {
    note_handled(m.channel, 1);
    if (watermarks_.set_idle(m.channel, m.idle))
      on_watermark();
    update_idle();
  }

  /// Aligns checkpoints by their ids. A barrier of a newer checkpoint than the one being
  /// aligned aborts that one (it was abandoned: the coordinator triggers one at a time), and a
  /// barrier of a checkpoint already taken or aborted is dropped. Either way the decision
  /// depends only on the order in which elements are handled, so a replay makes it again.
  void handle(barrier_msg& m) {
    note_handled(m.channel, 1);
    auto& in = inputs_[m.channel];
    if (!aligns(m.checkpoint)) {
      if (in.holding)
        release(in); // it held back what followed this barrier
      return;
    }
    if (m.checkpoint != aligning_) {
      abandon_alignment();
      aligning_ = m.checkpoint;
      newest_barrier_ = m.checkpoint;
      pass_on_cancel(m.checkpoint);
    }
    hold(in);
    in.aligned = true;
    complete_alignment();
  }

  /// An upstream instance passes on no barrier below `m.below` any more: neither does this one.
  void handle(cancel_msg& m) {
    note_handled(m.channel, 1);
    if (m.below == 0)
      return;
    if (aligning_ && *aligning_ < m.below) {
      abandon_alignment();
      aligning_.reset();
    }
    newest_barrier_ = std::max(newest_barrier_, m.below - 1);
    pass_on_cancel(m.below);
  }

  /// Lets go of the inputs held for the checkpoint being aligned, which is abandoned.
  void abandon_alignment() {
    for (auto& other : inputs_)
      if (other.aligned)
        release(other);
  }

  /// Tells the downstream instances that no barrier below `below` will follow from here, unless
  /// they know already. Without it, one aligning such a checkpoint would hold the inputs that
  /// delivered its barrier until this instance passed on a newer one, and this one may wait
  /// for those very inputs' upstream to go on: a cycle.
  void pass_on_cancel(uint64_t below) {
    if (below <= passed_below_)
      return;
    passed_below_ = below;
    if (below > passed_barrier_ + 1)
      core_.out.broadcast(cancel_msg{0, below});
  }

  /// Takes the checkpoint being aligned once every input that has not ended delivered its
  /// barrier: lets the operator emit what it buffers, writes the state, forwards the barrier,
  /// acknowledges, and releases what the inputs held back.
  void complete_alignment() {
    if (!aligning_ || core_.failed)
      return;
    for (const auto& in : inputs_)
      if (!in.ended && !in.aligned)
        return;
    auto id = *aligning_;
    aligning_.reset();
    std::string what;
    if constexpr (requires { op_.on_checkpoint(id, ctx_); }) {
      if (!guarded([&] { op_.on_checkpoint(id, ctx_); }, what))
        return fail(what);
    }
    if (!core_.take_checkpoint(this, id, nanos_since(alignment_started_)))
      return;
    core_.out.broadcast(barrier_msg{0, id});
    passed_barrier_ = id;
    std::vector<uint64_t> handled;
    for (const auto& in : inputs_)
      handled.push_back(in.handled);
    core_.note_checkpoint(id, std::move(handled));
    for (auto& in : inputs_)
      release(in);
  }

  void on_checkpoint_done(uint64_t id) {
    if (!core_.complete_checkpoint(this, id))
      return;
    std::string what;
    if constexpr (requires { op_.on_checkpoint_complete(id, ctx_); }) {
      if (!guarded([&] { op_.on_checkpoint_complete(id, ctx_); }, what))
        return fail(what);
    }
  }

  void handle(end_of_stream_msg& m) {
    note_handled(m.channel, 1);
    auto& in = inputs_[m.channel];
    if (in.ended)
      return;
    in.ended = true;
    if (watermarks_.end(m.channel) && watermarks_.current() != max_timestamp)
      on_watermark();
    complete_alignment(); // an ended input has nothing more to align
    if (core_.failed)
      return;
    for (auto& i : inputs_)
      if (!i.ended)
        return update_idle();
    finish_inputs();
  }

  void on_watermark() {
    auto time = watermarks_.current();
    ctx_.set_watermark(time);
    core_.stats.watermark = time;
    std::string what;
    if constexpr (requires { op_.on_watermark(time, ctx_); }) {
      if (!guarded([&] { op_.on_watermark(time, ctx_); }, what))
        return fail(what);
    }
    core_.out.broadcast(watermark_msg{0, time});
  }

  void update_idle() {
    bool idle = watermarks_.all_idle();
    if (idle == idle_out_)
      return;
    idle_out_ = idle;
    core_.out.broadcast(idle_msg{0, idle});
  }

  /// Every input has ended: run the end hook, then send end of stream behind the last records.
  void finish_inputs() {
    std::string what;
    if constexpr (requires { op_.on_end(ctx_); }) {
      if (!guarded([&] { op_.on_end(ctx_); }, what))
        return fail(what);
    }
    if (!inputs_.empty()) {
      ctx_.set_watermark(max_timestamp);
      core_.out.broadcast(watermark_msg{0, max_timestamp});
    }
    core_.end_stream(this);
  }

  void try_finish() { core_.try_finish(this); }

  void fail(const std::string& what) { core_.fail(this, what); }

  Op op_;
  host_core<out_type> core_;
  context<out_type> ctx_;
  std::vector<input_channel> inputs_;
  std::deque<event> events_;
  uint64_t queued_ = 0;
  uint64_t grant_threshold_;
  /// The checkpoint whose barriers are being aligned, if any, and when its first arrived; the
  /// newest checkpoint whose barrier was handled (at first, the restored one).
  std::optional<uint64_t> aligning_;
  uint64_t newest_barrier_ = 0;
  /// The newest checkpoint whose barrier this instance passed on, and the newest `below` it
  /// passed on a cancel for or started aligning (see `pass_on_cancel`).
  uint64_t passed_barrier_ = 0;
  uint64_t passed_below_ = 0;
  clock::time_point alignment_started_{};
  watermark_tracker watermarks_;
  bool idle_out_ = false;
  /// A restarted incarnation replays the log: the run it is at, and the elements of that run
  /// it handled.
  ///
  /// A replay regenerates what failed incarnations emitted, and what of it a downstream
  /// instance already has, something further down may already have acted on: a barrier passed
  /// on one path, say, that waits for its twin on another path through this instance's
  /// sources. Waiting for credit on one channel could stall the other paths behind it and close
  /// a cycle, so a replay goes on into the channels' backlogs, bounded by what was emitted
  /// since the restored checkpoint; sources do the same (`source_host::replaying`).
  bool replaying_ = false;
  uint64_t replay_index_ = 0;
  uint64_t replayed_in_run_ = 0;
};

/// Hosts a source as an actor: produces while output credit allows, yielding to its mailbox
/// between slices so credit and control messages are never starved.
///
/// With recovery, it logs the record counts at which it sent barriers and ended its stream; a
/// restarted incarnation produces again from the restored splits and does those at the same
/// counts, so that it emits the very elements the failed one did.
template <source_type Src>
class source_host : public host_actor<no_input, typename Src::output_type>::base {
public:
  using out_type = typename Src::output_type;
  using handle_type = host_actor<no_input, out_type>;
  using super = typename handle_type::base;
  using behavior_type = typename handle_type::behavior_type;

  /// Batches produced per mailbox visit: large enough to amortize, small enough to yield.
  static constexpr int batches_per_slice = 8;

  source_host(caf::actor_config& cfg, Src src, instance_info info, runtime_config config)
    : super(cfg),
      src_(std::move(src)),
      core_(std::move(info), config),
      ctx_(core_.out, core_.info, core_.state,
           [this](typename source_context<out_type>::marker m) { on_source_marker(m); }) {}

  const char* name() const override { return "sluice.source_host"; }

  void on_exit() override {
    core_.leave_retention();
    core_.out.clear();
    core_.state.release_memory();
  }

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
          return fail(*error);
        catch_up();
        on_credit();
      },
      [this](trigger_checkpoint_msg m) {
        deferred_triggers_.push_back(m.checkpoint);
        catch_up();
      },
      [this](checkpoint_done_msg m) {
        if (!core_.complete_checkpoint(this, m.checkpoint))
          return;
        if constexpr (requires { src_.on_checkpoint_complete(m.checkpoint); }) {
          std::string what;
          if (!guarded([&] { src_.on_checkpoint_complete(m.checkpoint); }, what))
            return fail(what);
        }
      },
      [this](finish_atom) {
        if (!waiting_to_finish_)
          return;
        finish_deferred_ = true;
        catch_up();
      },
      [this](credit_msg c) {
        core_.out.add_credit(c);
        on_credit();
      },
      [this](start_atom) { start(); },
      [this](inject_fault_msg m) {
        core_.fault = m;
        core_.fault_counted_from = core_.stats.records_in;
      },
      [this](flush_atom) {
        core_.flush_scheduled = false;
        core_.out.flush();
      },
      [this](produce_atom) {
        produce_scheduled_ = false;
        produce();
      },
      [this](inspect_atom) { return core_.snapshot(); },
      [this](wiring<no_input, out_type>& w) {
        core_.configure(this, w);
        ctx_.skip_failed_records_to(core_.skipped_records_outbox());
      },
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
    started_ = true;
    std::string what;
    if constexpr (requires { src_.open(ctx_); }) {
      if (!guarded([&] { src_.open(ctx_); }, what))
        return fail(what);
    }
    if (!guarded([&] { restore_splits(); }, what))
      return fail(what);
    if (core_.recovery.restarted) {
      const auto* where = core_.resume_from_log(what);
      if (!where)
        return fail(what);
      if (core_.dead_letters.store)
        core_.dead_letters.store->recover(core_.instance_number,
                                          core_.info.restore_checkpoint.value_or(0));
      next_event_ = where->events_mark;
      replay_end_ = core_.recovery.log->events_end();
      replay_records_ = core_.recovery.log->source_emitted();
      core_.out.say_hello(output_actor<out_type>{this});
    }
    produce();
  }

  void on_credit() {
    if (core_.finishing)
      try_finish();
    else if (started_ && !produce_scheduled_)
      produce();
    else
      core_.arm_flush(this);
  }

  /// The records emitted since the job started (or was restored).
  [[nodiscard]] uint64_t emitted() const noexcept { return core_.out.records_emitted(); }

  /// The event the log holds next, if a restarted incarnation has not replayed all yet.
  [[nodiscard]] const recovery_log::source_event* next_logged() const {
    if (next_event_ >= replay_end_)
      return nullptr;
    return core_.recovery.log->event_at(next_event_);
  }

  /// True while a restarted incarnation does again what the failed ones did: until it replayed
  /// the logged markers and emitted as many records as any of them. Past the log they emitted
  /// records only, and their downstream may have seen them all, and passed on what they made of
  /// them, even if it restarted since: no marker of its own may come first. Meanwhile it does
  /// not wait for output credit (see `operator_host::replaying_`).
  [[nodiscard]] bool replaying() const {
    return next_logged() != nullptr || emitted() < replay_records_;
  }

  /// A marker of the source itself: sent on and logged, or held back while replaying.
  void on_source_marker(typename source_context<out_type>::marker m) {
    if (replaying()) {
      if (!held_markers_.empty() && held_markers_.back().index() == m.index())
        held_markers_.back() = m; // only the newest of a kind matters
      else
        held_markers_.push_back(m);
      return;
    }
    std::visit([this](auto& x) { send_marker(x); }, m);
  }

  /// Sends a marker on and logs it.
  template <class Marker>
  void send_marker(const Marker& m) {
    if constexpr (std::is_same_v<Marker, watermark_msg>)
      last_watermark_ = std::max(last_watermark_, m.time);
    core_.out.broadcast(m);
    if (core_.recovery.log)
      core_.recovery.log->source_did({emitted(), m});
  }

  /// Once a replay is over, does what waited for it: the source's own markers, checkpoints
  /// triggered meanwhile, and the end of the stream.
  void catch_up() {
    if (held_markers_.empty() && deferred_triggers_.empty() && !finish_deferred_)
      return;
    if (replaying() || core_.failed || core_.finishing)
      return;
    for (auto& m : std::exchange(held_markers_, {})) {
      if (const auto* w = std::get_if<watermark_msg>(&m); w && w->time <= last_watermark_)
        continue; // a replayed watermark went further
      std::visit([this](auto& x) { send_marker(x); }, m);
    }
    for (auto id : std::exchange(deferred_triggers_, {}))
      checkpoint(id);
    if (std::exchange(finish_deferred_, false))
      finish();
  }

  /// Takes checkpoint `id`: records the source's splits, then sends the barrier behind
  /// everything emitted so far; `replayed` when the log holds it already.
  void checkpoint(uint64_t id, bool replayed = false) {
    if (core_.failed)
      return;
    if (!core_.abandoned(id)) {
      if constexpr (requires { src_.checkpoint_splits(); }) {
        std::string what;
        if (!guarded([&] { splits().update(src_.checkpoint_splits()); }, what))
          return fail("checkpoint " + std::to_string(id) + ": " + what);
      }
      if constexpr (requires { src_.on_checkpoint(id); }) {
        std::string what;
        if (!guarded([&] { src_.on_checkpoint(id); }, what))
          return fail("checkpoint " + std::to_string(id) + ": " + what);
      }
    }
    if (!core_.take_checkpoint(this, id, 0))
      return;
    if (core_.finishing)
      return;
    if (replayed)
      core_.out.broadcast(barrier_msg{0, id});
    else
      send_marker(barrier_msg{0, id});
    core_.note_checkpoint(id, {});
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
    while (const auto* event = next_logged()) {
      if (event->emitted > emitted())
        return event->emitted - emitted();
      ++next_event_;
      std::visit([this](const auto& m) { replay(m); }, event->marker);
    }
    catch_up();
    return std::numeric_limits<uint64_t>::max();
  }

  /// Does again what the failed incarnation did: a barrier is a checkpoint taken again (its
  /// state and acknowledgement only if it was not abandoned), the end of the stream ends it.
  void replay(const barrier_msg& m) { checkpoint(m.checkpoint, true); }

  void replay(const end_of_stream_msg&) {
    waiting_to_finish_ = false;
    core_.end_stream(this);
  }

  void replay(const watermark_msg& m) {
    last_watermark_ = std::max(last_watermark_, m.time);
    core_.out.broadcast(m);
  }

  void replay(const idle_msg& m) { core_.out.broadcast(m); }

  void produce() {
    if (core_.failed || core_.finishing || waiting_to_finish_)
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
      if (core_.failed || core_.finishing)
        return;
      if (core_.out.blocked() && !replaying()) {
        core_.stop_for_credit();
        return; // credit resumes us
      }
      core_.note_blocked(false);
      source_step step;
      std::string what;
      if (!core_.timed([&] {
            return guarded(
              [&] {
                core_.inject();
                step = src_.produce(ctx_, budget);
                core_.stats.records_in = emitted();
                if (core_.recovery.log)
                  core_.recovery.log->source_emitted(emitted());
              },
              what);
          }))
        return fail(what);
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
    return core_.recovery.retention && core_.recovery.retention->closed();
  }

  /// How often a source paused for retention looks whether it may go on.
  static constexpr std::chrono::microseconds retention_poll{500};

  void schedule_produce(std::chrono::microseconds delay) {
    produce_scheduled_ = true;
    if (delay.count() <= 0)
      this->send(control_actor{this}, produce_atom::value);
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
    if (core_.finishing)
      return;
    waiting_to_finish_ = true;
    core_.out.flush();
    send_from(this, core_.coordinator, source_finished_msg{core_.instance_number});
  }

  void finish() {
    waiting_to_finish_ = false;
    ctx_.emit_watermark(max_timestamp);
    if (core_.recovery.log)
      core_.recovery.log->source_did({emitted(), end_of_stream_msg{0}});
    core_.end_stream(this);
  }

  void try_finish() { core_.try_finish(this); }

  void fail(const std::string& what) { core_.fail(this, what); }

  Src src_;
  host_core<out_type> core_;
  source_context<out_type> ctx_;
  bool started_ = false;
  bool produce_scheduled_ = false;
  bool waiting_to_finish_ = false;
  /// The next source event of the log to replay and the end of those to replay (absolute
  /// indices).
  uint64_t next_event_ = 0;
  uint64_t replay_end_ = 0;
  /// The most records an earlier incarnation emitted: a replay lasts at least until this many.
  uint64_t replay_records_ = 0;
  /// What waits for a replay to end (see `catch_up`): the source's own markers, checkpoints
  /// triggered, the end of the stream.
  std::vector<typename source_context<out_type>::marker> held_markers_;
  std::vector<uint64_t> deferred_triggers_;
  bool finish_deferred_ = false;
  /// The newest watermark sent.
  timestamp last_watermark_ = min_timestamp;
};

} // namespace sluice::detail
