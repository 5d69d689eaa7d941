#pragma once

#include <algorithm>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "sluice/collector.hpp"
#include "sluice/dead_letter.hpp"
#include "sluice/messages.hpp"
#include "sluice/record.hpp"
#include "sluice/state.hpp"

namespace sluice {

/// Who an operator instance is: the pipeline, the operator and the instance index.
struct instance_info {
  std::string pipeline;
  std::string operator_name;
  uint32_t index = 0;
  uint32_t parallelism = 1;
  uint32_t max_parallelism = 128;
  /// True in batch execution mode: keyed aggregations emit final results at end of stream.
  bool batch_mode = false;
  /// The completed checkpoint the instance's state restores to (empty: the last it saw).
  std::optional<uint64_t> restore_checkpoint;
  /// How often this instance was restarted in this run.
  uint32_t incarnation = 0;
  /// The job takes checkpoints: a sink makes its output visible when one completes (and at
  /// the end), so that output a restarted instance produces again is not seen twice.
  bool checkpointed = false;

  /// "operator 'name' (instance i of n) in pipeline 'p'": how errors name an instance.
  [[nodiscard]] std::string describe() const {
    return "operator '" + operator_name + "' (instance " + std::to_string(index) + " of "
           + std::to_string(parallelism) + ") in pipeline '" + pipeline + "'";
  }
};

namespace detail {

struct host_access;

/// Where an instance under `failure_policy::skip` puts the records its user code failed on.
struct dead_letter_outbox {
  std::shared_ptr<dead_letter_store> store;
  uint32_t instance_number = 0;
  /// The records skipped so far.
  uint64_t skipped = 0;
};

/// For `context::for_each_record` in an operator that is not keyed.
struct no_key_text {};

} // namespace detail

/// What an operator sees of its host: where to emit records, its keyed state, its identity.
///
/// A context belongs to one instance and is used only from that instance's hooks.
template <class Out>
class context {
public:
  context(collector<Out>& out, const instance_info& info, state_store& state)
    : out_(&out), info_(&info), state_(&state) {}

  /// Emits a record with an explicit event timestamp. (Taken by reference, not by value: a
  /// record moved in is moved once, into the output batch.)
  void emit(Out&& value, timestamp time) { out_->emit(std::move(value), time); }
  void emit(const Out& value, timestamp time) { out_->emit(Out(value), time); }

  /// Emits a batch of records, keeping their timestamps; the vector is left empty. Cheaper than
  /// emitting one by one when an operator passes its input on (peek) or rewrites it in place.
  void emit_batch(std::vector<record<Out>>&& records) { out_->emit_batch(std::move(records)); }

  /// Emits a record stamped with the event time of the record being processed.
  void emit(Out&& value) { out_->emit(std::move(value), current_time_); }
  void emit(const Out& value) { out_->emit(Out(value), current_time_); }

  /// Sets the event time that `emit(value)` stamps: an operator that calls user code per record
  /// sets it to the record's time first.
  void set_current_time(timestamp time) noexcept { current_time_ = time; }

  /// Event time of the record being processed.
  [[nodiscard]] timestamp current_time() const noexcept { return current_time_; }

  /// The instance's current watermark.
  [[nodiscard]] timestamp watermark() const noexcept { return watermark_; }

  /// The instance's processing time, in ms since the epoch: the wall clock as its host last
  /// moved it on, between records. Kept for operators with an `on_processing_time` hook (a keyed
  /// process with `on_timer`), min_timestamp in others; a replay after a failure sees it move
  /// at the same points of the input as the failed incarnation did.
  [[nodiscard]] timestamp current_processing_time() const noexcept { return processing_time_; }

  /// Asks the host to call the operator's `on_processing_time` once processing time reaches
  /// `time`: how an operator with processing-time timers is woken when no input comes.
  void call_back_at_processing_time(timestamp time) noexcept {
    processing_callback_ = std::min(processing_callback_, time);
  }

  [[nodiscard]] const instance_info& info() const noexcept { return *info_; }

  /// The keyed state of this instance.
  [[nodiscard]] state_store& state() noexcept { return *state_; }

  /// Calls `fn(record)` for every record: how an operator runs user code per record.
  ///
  /// Under `failure_policy::skip`, a record whose call throws becomes a dead letter (its key
  /// `key_text(value)` in a keyed operator) and the next record goes on; what `fn` emitted for
  /// it before it threw stays emitted. Otherwise the exception leaves the hook and the instance
  /// fails. `fn` must leave the record's value as it was when it throws.
  template <class T, class F, class KeyText = detail::no_key_text>
  void for_each_record(std::vector<record<T>>& records, F&& fn, KeyText&& key_text = {}) {
    if (!dead_letters_) {
      for (auto& r : records)
        fn(r);
      return;
    }
    for (auto& r : records) {
      try {
        fn(r);
      } catch (const std::exception& e) {
        skip(r, e.what(), key_text);
      } catch (...) {
        skip(r, "unknown exception", key_text);
      }
    }
  }

  /// True under `failure_policy::skip`.
  [[nodiscard]] bool skips_failed_records() const noexcept { return dead_letters_ != nullptr; }

  /// Under `failure_policy::skip`: makes a dead letter of something the operator could not turn
  /// into a record (a source's undecodable message, its raw bytes as `payload`), and counts it
  /// as skipped. Call only when `skips_failed_records()`.
  void skip_raw(std::string key, std::string error, std::string payload, timestamp time) {
    ++dead_letters_->skipped;
    dead_letters_->store->put(dead_letters_->instance_number,
                              {info_->pipeline, info_->operator_name, info_->index, std::move(key),
                               std::move(error), std::move(payload), time});
  }

protected:
  collector<Out>* out_;

private:
  friend struct detail::host_access;

  template <class T, class KeyText>
  void skip(const record<T>& r, const char* error, KeyText& key_text) {
    std::string key;
    if constexpr (!std::is_same_v<std::decay_t<KeyText>, detail::no_key_text>) {
      try {
        key = key_text(r.value);
      } catch (...) {
        // The key function failed on the record as well: the letter has no key.
      }
    }
    skip_raw(std::move(key), error, record_text(r.value), r.time);
  }

  const instance_info* info_;
  state_store* state_;
  detail::dead_letter_outbox* dead_letters_ = nullptr;
  timestamp current_time_ = 0;
  timestamp watermark_ = min_timestamp;
  timestamp processing_time_ = min_timestamp;
  /// The earliest processing time asked for a callback (max_timestamp: none).
  timestamp processing_callback_ = max_timestamp;
};

namespace detail {

/// What only a host sets on an operator's context.
struct host_access {
  template <class Out>
  static void set_watermark(context<Out>& ctx, timestamp time) noexcept {
    ctx.watermark_ = time;
  }

  template <class Out>
  static void set_processing_time(context<Out>& ctx, timestamp time) noexcept {
    ctx.processing_time_ = time;
  }

  /// The earliest processing time the operator asked to be called back at since the last call,
  /// max_timestamp if none.
  template <class Out>
  static timestamp take_processing_callback(context<Out>& ctx) noexcept {
    return std::exchange(ctx.processing_callback_, max_timestamp);
  }

  template <class Out>
  static void skip_failed_records_to(context<Out>& ctx, dead_letter_outbox* outbox) noexcept {
    ctx.dead_letters_ = outbox;
  }

  /// Lets `to` skip failed records where `from` does.
  template <class Out>
  static void skip_failed_records_like(const context<Out>& from, context<Out>& to) noexcept {
    to.dead_letters_ = from.dead_letters_;
  }
};

} // namespace detail

/// Who hears which split of a source its records come from (op::source_watermarks).
class split_listener {
public:
  /// The records emitted next come from split `id`.
  virtual void begin_split(uint64_t id) = 0;
  /// Split `id` has no more records.
  virtual void end_split(uint64_t id) = 0;

protected:
  ~split_listener() = default;
};

/// The context of a source: it may also emit watermarks and declare itself idle, and say which
/// of its splits the records come from.
template <class Out>
class source_context : public context<Out> {
public:
  /// A watermark or idle change of the source. Its host sends it on (and, when the job can
  /// recover, logs it: a restarted source sends its markers where the failed one did).
  using marker = std::variant<watermark_msg, idle_msg>;

  source_context(collector<Out>& out, const instance_info& info, state_store& state,
                 std::function<void(marker)> send_marker)
    : context<Out>(out, info, state), send_marker_(std::move(send_marker)) {}

  /// Promises that no record older than `time` follows.
  void emit_watermark(timestamp time) {
    if (time <= this->watermark())
      return;
    // Downstream takes a watermark as a sign of activity, so an idle source is active again.
    idle_ = false;
    detail::host_access::set_watermark(*this, time);
    send_marker_(watermark_msg{0, time});
  }

  /// Declares the source idle (excluded from downstream watermarks) or active again.
  void mark_idle(bool idle) {
    if (idle == idle_)
      return;
    idle_ = idle;
    send_marker_(idle_msg{0, idle});
  }

  /// Says that the records emitted next come from split `id` of the source (a byte range of a
  /// file, a Kafka partition, a generator's share of indices), so that a watermark strategy
  /// given to the source makes a watermark per split (`pipeline::source(src, strategy)`). A
  /// source that never says reads one split. Costs a test when no strategy listens.
  void begin_split(uint64_t id) {
    if (splits_)
      splits_->begin_split(id);
  }

  /// Says that split `id` has no more records: its watermark no longer holds the source's back.
  void end_split(uint64_t id) {
    if (splits_)
      splits_->end_split(id);
  }

  /// Makes `listener` hear of the splits (op::source_watermarks does).
  void listen_to_splits(split_listener* listener) noexcept { splits_ = listener; }

private:
  std::function<void(marker)> send_marker_;
  bool idle_ = false;
  split_listener* splits_ = nullptr;
};

} // namespace sluice
