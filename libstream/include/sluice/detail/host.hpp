#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <exception>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include <caf/event_based_actor.hpp>
#include <caf/send.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "sluice/config.hpp"
#include "sluice/context.hpp"
#include "sluice/detail/output_channels.hpp"
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
  bool failed = false;
  bool flush_scheduled = false;

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

  void note_blocked(bool now_blocked) {
    if (now_blocked && !blocked)
      blocked_since = clock::now();
    else if (!now_blocked && blocked)
      stats.backpressured_ns += nanos_since(blocked_since);
    blocked = now_blocked;
  }

  instance_stats snapshot() {
    auto s = stats;
    s.pipeline = info.pipeline;
    s.operator_name = info.operator_name;
    s.instance = info.index;
    s.parallelism = info.parallelism;
    s.records_out = out.records_sent();
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
    auto start = clock::now();
    std::string what;
    uint64_t bytes = 0;
    if (!guarded([&] { bytes = state.checkpoint(id); }, what)) {
      fail(self, "checkpoint " + std::to_string(id) + ": " + what);
      return false;
    }
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
    stats.checkpoint_completed = id;
    return true;
  }

  /// Arms the flush timer when records could be sent but wait for a fuller batch.
  template <class Self>
  void arm_flush(Self* self) {
    if (flush_scheduled || !out.has_flushable_records())
      return;
    flush_scheduled = true;
    self->delayed_send(control_actor{self}, config.flush_delay, flush_atom::value);
  }

  /// Sends end of stream behind the last records; the instance exits once all is sent.
  void end_stream(caf::scheduled_actor* self) {
    out.broadcast(end_of_stream_msg{0});
    finishing = true;
    try_finish(self);
  }

  /// Sends what credit allows; exits when nothing is left to send.
  void try_finish(caf::scheduled_actor* self) {
    out.flush();
    if (out.empty())
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
      grant_threshold_(std::max<uint64_t>(1, config.input_buffer / 2)) {
    core_.stats.input_credit_limit = static_cast<int64_t>(config.input_buffer);
  }

  const char* name() const override { return "sluice.operator_host"; }

  // Upstream and downstream instances hold handles to each other: drop ours at exit so the
  // cycle does not keep finished instances alive.
  void on_exit() override {
    core_.out.clear();
    inputs_.clear();
  }

  behavior_type make_behavior() override {
    return {
      [this](batch<in_type>& b) { on_data(std::move(b)); },
      [this](credit_msg c) {
        core_.out.add_credit(c.output, c.records);
        if (core_.finishing)
          try_finish();
        else
          drain();
      },
      [this](watermark_msg m) { on_marker(m); },
      [this](idle_msg m) { on_marker(m); },
      [this](end_of_stream_msg m) { on_marker(m); },
      [this](barrier_msg m) { on_barrier(m); },
      [this](start_atom) { start(); },
      [](trigger_checkpoint_msg) {}, // only sources start checkpoints and end streams
      [](finish_atom) {},
      [this](checkpoint_done_msg m) { on_checkpoint_done(m.checkpoint); },
      [this](flush_atom) {
        core_.flush_scheduled = false;
        core_.out.flush();
        drain();
      },
      [](produce_atom) {},
      [this](inspect_atom) { return core_.snapshot(); },
      [this](wiring<out_type>& w) {
        core_.out.configure(this, std::move(w.outputs), core_.config.batch_size);
        core_.coordinator = std::move(w.coordinator);
        core_.instance_number = w.instance_number;
        inputs_.clear();
        for (auto& [upstream, output] : w.inputs) {
          input_channel in;
          in.upstream = std::move(upstream);
          in.upstream_output = output;
          inputs_.push_back(std::move(in));
        }
        watermarks_.resize(inputs_.size());
      },
    };
  }

private:
  using event =
    std::variant<batch<in_type>, watermark_msg, idle_msg, end_of_stream_msg, barrier_msg>;

  struct input_channel {
    output_actor upstream;
    uint32_t upstream_output = 0;
    uint64_t queued = 0;
    /// Records processed but not yet granted back as credit.
    uint64_t ungranted = 0;
    bool ended = false;
    /// The channel delivered the barrier of the checkpoint being aligned: what follows it
    /// waits in `held` until every input has delivered it.
    bool holding = false;
    /// The barrier was handled (everything before it processed).
    bool aligned = false;
    std::deque<event> held;
  };

  void start() {
    std::string what;
    if constexpr (requires { op_.open(ctx_); }) {
      if (!guarded([&] { op_.open(ctx_); }, what))
        return fail(what);
    }
    for (auto& in : inputs_)
      send_from(this, in.upstream,
                credit_msg{in.upstream_output, static_cast<int64_t>(core_.config.input_buffer)});
    if (inputs_.empty())
      finish_inputs();
  }

  void on_data(batch<in_type>&& b) {
    if (b.channel >= inputs_.size())
      return fail("batch on unknown input channel " + std::to_string(b.channel));
    auto& in = inputs_[b.channel];
    in.queued += b.records.size();
    queued_ += b.records.size();
    core_.stats.peak_queued_per_channel =
      std::max<uint64_t>(core_.stats.peak_queued_per_channel, in.queued);
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
  void on_marker(Marker m) {
    if (m.channel >= inputs_.size())
      return fail("marker on unknown input channel " + std::to_string(m.channel));
    auto& in = inputs_[m.channel];
    if (in.holding) {
      in.held.emplace_back(m);
      return;
    }
    events_.emplace_back(m);
    drain();
  }

  /// A barrier: the channel holds back what follows it until the checkpoint is aligned.
  void on_barrier(barrier_msg m) {
    if (m.channel >= inputs_.size())
      return fail("barrier on unknown input channel " + std::to_string(m.channel));
    auto& in = inputs_[m.channel];
    if (in.holding) {
      in.held.emplace_back(m);
      return;
    }
    in.holding = true;
    if (!aligning_) {
      aligning_ = m.checkpoint;
      alignment_started_ = clock::now();
    }
    events_.emplace_back(m);
    drain();
  }

  /// Processes queued input while output credit allows; flushes when the input runs dry.
  void drain() {
    while (!events_.empty() && !core_.failed && !core_.finishing) {
      if (core_.out.blocked()) {
        core_.note_blocked(true);
        return;
      }
      core_.note_blocked(false);
      std::visit([this](auto& x) { handle(x); }, events_.front());
      events_.pop_front();
    }
    core_.note_blocked(false);
    if (core_.failed || core_.finishing)
      return;
    core_.stats.queued_records = queued_;
    if (events_.empty() && this->mailbox().empty())
      core_.out.flush();
    else
      core_.arm_flush(this);
  }

  void handle(batch<in_type>& b) {
    auto n = b.records.size();
    auto& in = inputs_[b.channel];
    in.queued -= n;
    queued_ -= n;
    core_.stats.records_in += n;
    ++core_.stats.batches_in;
    std::string what;
    if (!core_.timed([&] { return guarded([&] { op_.on_batch(b.records, ctx_); }, what); }))
      return fail(what);
    grant(in, n);
  }

  /// Returns credit for `n` processed records to the channel's upstream, in lumps of half the
  /// input buffer: half the credit messages of granting per batch, and the upstream never
  /// stalls, since at most half its window is ever held back here.
  void grant(input_channel& in, uint64_t n) {
    in.ungranted += n;
    if (in.ungranted < grant_threshold_)
      return;
    send_from(this, in.upstream,
              credit_msg{in.upstream_output, static_cast<int64_t>(in.ungranted)});
    in.ungranted = 0;
  }

  void handle(watermark_msg& m) {
    if (watermarks_.advance(m.channel, m.time))
      on_watermark();
    update_idle(); // a watermark makes an idle channel active again
  }

  void handle(idle_msg& m) {
    if (watermarks_.set_idle(m.channel, m.idle))
      on_watermark();
    update_idle();
  }

  void handle(barrier_msg& m) {
    inputs_[m.channel].aligned = true;
    complete_alignment();
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
    if constexpr (requires { op_.on_checkpoint(ctx_); }) {
      if (!guarded([&] { op_.on_checkpoint(ctx_); }, what))
        return fail(what);
    }
    if (!core_.take_checkpoint(this, id, nanos_since(alignment_started_)))
      return;
    core_.out.broadcast(barrier_msg{0, id});
    for (auto& in : inputs_) {
      in.holding = false;
      in.aligned = false;
      for (auto& e : in.held)
        events_.push_back(std::move(e));
      in.held.clear();
    }
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
  /// The checkpoint whose barriers are being aligned, if any, and when its first arrived.
  std::optional<uint64_t> aligning_;
  clock::time_point alignment_started_{};
  watermark_tracker watermarks_;
  bool idle_out_ = false;
};

/// Hosts a source as an actor: produces while output credit allows, yielding to its mailbox
/// between slices so credit and control messages are never starved.
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
      ctx_(core_.out, core_.info, core_.state) {}

  const char* name() const override { return "sluice.source_host"; }

  void on_exit() override { core_.out.clear(); }

  behavior_type make_behavior() override {
    return {
      [](batch<no_input>&) {},
      [](watermark_msg) {},
      [](idle_msg) {},
      [](end_of_stream_msg) {},
      [](barrier_msg) {},
      [this](trigger_checkpoint_msg m) { checkpoint(m.checkpoint); },
      [this](checkpoint_done_msg m) { core_.complete_checkpoint(this, m.checkpoint); },
      [this](finish_atom) {
        if (waiting_to_finish_)
          finish();
      },
      [this](credit_msg c) {
        core_.out.add_credit(c.output, c.records);
        if (core_.finishing)
          try_finish();
        else if (started_ && !produce_scheduled_)
          produce();
        else
          core_.arm_flush(this);
      },
      [this](start_atom) {
        started_ = true;
        std::string what;
        if constexpr (requires { src_.open(ctx_); }) {
          if (!guarded([&] { src_.open(ctx_); }, what))
            return fail(what);
        }
        if (!guarded([&] { restore_splits(); }, what))
          return fail(what);
        produce();
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
      [this](wiring<out_type>& w) {
        core_.out.configure(this, std::move(w.outputs), core_.config.batch_size);
        core_.coordinator = std::move(w.coordinator);
        core_.instance_number = w.instance_number;
      },
    };
  }

private:
  /// Where a source that can rewind keeps its splits: operator state, dealt out anew when the
  /// job is restored with another parallelism.
  static constexpr const char* splits_state = "source splits";

  /// Takes checkpoint `id`: records the source's splits, then sends the barrier behind
  /// everything emitted so far.
  void checkpoint(uint64_t id) {
    if (core_.failed)
      return;
    if constexpr (requires { src_.checkpoint_splits(); }) {
      std::string what;
      if (!guarded([&] { splits().update(src_.checkpoint_splits()); }, what))
        return fail("checkpoint " + std::to_string(id) + ": " + what);
    }
    if (!core_.take_checkpoint(this, id, 0))
      return;
    if (!core_.finishing)
      core_.out.broadcast(barrier_msg{0, id});
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

  void produce() {
    if (core_.failed || core_.finishing || waiting_to_finish_)
      return;
    for (int i = 0; i < batches_per_slice; ++i) {
      if (core_.out.blocked()) {
        core_.note_blocked(true);
        return; // credit resumes us
      }
      core_.note_blocked(false);
      source_step step;
      std::string what;
      if (!core_.timed([&] {
            return guarded([&] { step = src_.produce(ctx_, core_.config.batch_size); }, what);
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

  void schedule_produce(std::chrono::microseconds delay) {
    produce_scheduled_ = true;
    if (delay.count() <= 0)
      this->send(control_actor{this}, produce_atom::value);
    else
      this->delayed_send(control_actor{this}, delay, produce_atom::value);
  }

  /// The source has nothing more to read. Without checkpoints it ends its stream; with them it
  /// waits for the coordinator to take a final checkpoint first (`finish_atom`), so that the
  /// end of a bounded job is covered by a checkpoint too.
  void read_everything() {
    if (!core_.coordinator)
      return finish();
    waiting_to_finish_ = true;
    core_.out.flush();
    send_from(this, core_.coordinator, source_finished_msg{core_.instance_number});
  }

  void finish() {
    waiting_to_finish_ = false;
    ctx_.emit_watermark(max_timestamp);
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
};

} // namespace sluice::detail
