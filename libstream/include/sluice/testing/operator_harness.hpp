#pragma once

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "sluice/collector.hpp"
#include "sluice/config.hpp"
#include "sluice/context.hpp"
#include "sluice/operator.hpp"
#include "sluice/record.hpp"
#include "sluice/state.hpp"

namespace sluice::testing {

/// Who the operator instance under test is and where its state lives.
struct harness_options {
  std::string pipeline = "harness";
  std::string operator_name = "operator";
  /// The instance's index among `parallelism` instances: it owns the key groups an instance
  /// of that index would own in a job.
  uint32_t instance = 0;
  uint32_t parallelism = 1;
  uint32_t max_parallelism = 128;
  /// Keyed aggregations emit final results at end of input (as in a bounded job).
  bool batch_mode = false;
  /// Where LMDB state lives; empty: a fresh temporary directory, removed with the harness.
  std::string state_dir;
};

/// Runs one operator instance by hand: no threads, no actor system, no channels.
///
/// A test pushes records (with event times; to either input of a two-input operator) and
/// watermarks, moves processing time by hand (it starts at 0 and moves only when told), ends the
/// input, takes snapshots and restores them into a fresh instance, reads keyed state, and looks
/// at what the operator emitted with its timestamps — as Flink's operator test harnesses and Kafka
/// Streams' `TopologyTestDriver` do. The operator's hooks run as in a job: a watermark reaches
/// `on_watermark` only when it advances, end of input sets the watermark to its maximum
/// first, a snapshot calls `on_checkpoint` before its state is written.
///
/// Errors: an exception a hook throws leaves the harness call as it is (in a job the instance
/// would fail). The constructor throws `std::runtime_error` if it cannot make a state directory.
template <operator_type Op>
class operator_harness {
public:
  using in_type = typename Op::input_type;
  using out_type = typename Op::output_type;

  explicit operator_harness(Op op, harness_options options = {})
    : options_(std::move(options)), owns_dir_(options_.state_dir.empty()) {
    if (owns_dir_)
      options_.state_dir = make_temp_dir();
    open(std::move(op), std::nullopt);
  }

  operator_harness(const operator_harness&) = delete;
  operator_harness& operator=(const operator_harness&) = delete;

  ~operator_harness() {
    instance_.reset();
    if (owns_dir_) {
      std::error_code ignored;
      std::filesystem::remove_all(options_.state_dir, ignored);
    }
  }

  /// Pushes one record as a batch of its own.
  void push(in_type value, timestamp time = 0) {
    std::vector<record<in_type>> records;
    records.push_back(record<in_type>{std::move(value), time});
    push(std::move(records));
  }

  /// Pushes a batch of records.
  void push(std::vector<record<in_type>> records) {
    instance_->op.on_batch(records, instance_->ctx);
    instance_->out.drain();
  }

  /// Pushes one record to the first input of a two-input operator (its `process_first`).
  template <class A>
  void push_first(A value, timestamp time = 0) requires
    std::is_constructible_v<in_type, std::in_place_index_t<0>, A &&> {
    push(in_type{std::in_place_index<0>, std::move(value)}, time);
  }

  /// Pushes one record to the second input of a two-input operator (its `process_second`).
  template <class B>
  void push_second(B value, timestamp time = 0) requires
    std::is_constructible_v<in_type, std::in_place_index_t<1>, B &&> {
    push(in_type{std::in_place_index<1>, std::move(value)}, time);
  }

  /// Pushes a watermark; the operator sees it if it advances the instance's watermark.
  void push_watermark(timestamp time) {
    if (time <= instance_->ctx.watermark())
      return;
    detail::host_access::set_watermark(instance_->ctx, time);
    if constexpr (requires(Op & op, context<out_type> & ctx) { op.on_watermark(time, ctx); }) {
      instance_->op.on_watermark(time, instance_->ctx);
      instance_->out.drain();
    }
  }

  /// Moves processing time on to `time`; an operator with `on_processing_time` (a keyed process
  /// with `on_timer`) fires the processing-time timers due. Nothing if `time` is not later.
  void advance_processing_time(timestamp time) {
    if (time <= processing_time_)
      return;
    processing_time_ = time;
    detail::host_access::set_processing_time(instance_->ctx, time);
    if constexpr (requires(Op & op, context<out_type> & ctx) {
                    op.on_processing_time(time, ctx);
                  }) {
      instance_->op.on_processing_time(time, instance_->ctx);
      instance_->out.drain();
    }
  }

  /// Ends the input: the watermark goes to its maximum, then the operator's end hook runs.
  void end_input() {
    push_watermark(max_timestamp);
    if constexpr (requires(Op & op, context<out_type> & ctx) { op.on_end(ctx); }) {
      instance_->op.on_end(instance_->ctx);
      instance_->out.drain();
    }
  }

  /// Takes a checkpoint of the instance (and completes it, as a job whose every instance took
  /// it would); returns its id, to `restore` from.
  uint64_t snapshot() {
    auto id = ++last_checkpoint_;
    auto& i = *instance_;
    if constexpr (requires(Op & op, context<out_type> & ctx) { op.on_checkpoint(id, ctx); }) {
      i.op.on_checkpoint(id, i.ctx);
      i.out.drain();
    }
    i.state.checkpoint(id);
    i.state.complete(id);
    if constexpr (requires(Op & op, context<out_type> & ctx) {
                    op.on_checkpoint_complete(id, ctx);
                  }) {
      i.op.on_checkpoint_complete(id, i.ctx);
      i.out.drain();
    }
    return id;
  }

  /// Replaces the instance by `fresh`, its state restored to snapshot `checkpoint`: what the
  /// old one did since is lost, as in a crash. The output collected so far stays.
  void restore(Op fresh, uint64_t checkpoint) {
    instance_.reset();
    open(std::move(fresh), checkpoint);
  }

  /// What the operator emitted so far, with event times, in order.
  [[nodiscard]] const std::vector<record<out_type>>& output() const noexcept {
    return output_.records;
  }

  /// The values emitted so far, in order; the output is cleared.
  std::vector<out_type> take_values() {
    std::vector<out_type> values;
    for (auto& r : output_.records)
      values.push_back(std::move(r.value));
    output_.records.clear();
    return values;
  }

  /// The value of `key` in keyed state table `table`, if it has one.
  /// @throws state_type_error if the table holds other types.
  template <class K, class V>
  [[nodiscard]] std::optional<V> keyed_state(const std::string& table, const K& key) {
    const auto* found = state().template table<K, V>(table)->find(key);
    return found ? std::optional<V>{*found} : std::nullopt;
  }

  /// The instance's state.
  [[nodiscard]] state_store& state() noexcept { return instance_->state; }

  /// The instance's current watermark.
  [[nodiscard]] timestamp watermark() const noexcept { return instance_->ctx.watermark(); }

  /// The instance's processing time.
  [[nodiscard]] timestamp processing_time() const noexcept { return processing_time_; }

  /// The operator under test.
  [[nodiscard]] Op& op() noexcept { return instance_->op; }

private:
  /// Collects what the operator emits.
  struct output_sink {
    std::vector<record<out_type>> records;

    void emit_batch(std::vector<record<out_type>>& batch) {
      for (auto& r : batch)
        records.push_back(std::move(r));
      batch.clear();
    }
  };

  /// One instance: the operator, its identity, its state and its context.
  struct instance {
    instance(Op op_arg, instance_info info_arg, const state_options& options, output_sink& sink)
      : op(std::move(op_arg)), info(std::move(info_arg)), state(options), ctx(out, info, state) {
      out.bind(sink);
    }

    Op op;
    instance_info info;
    state_store state;
    collector<out_type> out;
    context<out_type> ctx;
  };

  void open(Op op, std::optional<uint64_t> restore) {
    instance_info info;
    info.pipeline = options_.pipeline;
    info.operator_name = options_.operator_name;
    info.index = options_.instance;
    info.parallelism = options_.parallelism;
    info.max_parallelism = options_.max_parallelism;
    info.batch_mode = options_.batch_mode;
    info.restore_checkpoint = restore;
    info.checkpointed = true;
    runtime_config config;
    config.state_dir = options_.state_dir;
    config.max_parallelism = options_.max_parallelism;
    auto state =
      instance_state_options(config, info.pipeline, info.operator_name, info.index, restore);
    instance_ = std::make_unique<instance>(std::move(op), std::move(info), state, output_);
    detail::host_access::set_processing_time(instance_->ctx, processing_time_);
    if constexpr (requires(Op & o, context<out_type> & ctx) { o.open(ctx); }) {
      instance_->op.open(instance_->ctx);
      instance_->out.drain();
    }
  }

  static std::string make_temp_dir() {
    auto pattern = (std::filesystem::temp_directory_path() / "sluice-harness-XXXXXX").string();
    if (!mkdtemp(pattern.data()))
      throw std::runtime_error("operator_harness: cannot create a state directory under "
                               + std::filesystem::temp_directory_path().string());
    return pattern;
  }

  harness_options options_;
  bool owns_dir_;
  output_sink output_;
  std::unique_ptr<instance> instance_;
  uint64_t last_checkpoint_ = 0;
  timestamp processing_time_ = 0;
};

} // namespace sluice::testing
