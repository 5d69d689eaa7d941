#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <caf/meta/type_name.hpp>

#include "sluice/context.hpp"
#include "sluice/operator.hpp"
#include "sluice/operators/kafka_client.hpp"
#include "sluice/serde.hpp"
#include "sluice/split_watermarks.hpp"

namespace sluice {

/// What a kafka_source reads, and how.
struct kafka_source_options {
  std::string topic;
  /// librdkafka properties; `bootstrap.servers` and `group.id` are required. Sluice sets
  /// `enable.auto.commit=false` and, unless given, `auto.offset.reset=earliest`.
  kafka::properties properties;
  /// Read up to the end offsets seen at start, then end the stream (a batch job over a topic).
  bool bounded = false;
  /// How long metadata and offset requests may take before the source fails.
  std::chrono::milliseconds timeout{10'000};
  /// A partition without a message for this long (wall-clock time) no longer holds the
  /// watermark back; an instance whose partitions are all idle declares itself idle. Zero: never.
  std::chrono::milliseconds idle_timeout{0};
};

namespace op {

/// A partition an instance reads, and the offset of the next message to read. `end` is where a
/// bounded source stops (-1: never).
struct kafka_partition {
  int32_t partition = 0;
  int64_t offset = 0;
  int64_t end = -1;

  friend bool operator==(const kafka_partition&, const kafka_partition&) = default;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, kafka_partition& x) {
  return f(caf::meta::type_name("sluice.kafka_partition"), x.partition, x.offset, x.end);
}

/// A source of the values of a Kafka topic, decoded by `ValueSerde`, with the messages' Kafka
/// timestamps as event time. With a `KeySerde` other than `no_key` it emits
/// `std::pair<Key, Value>`, the key decoded from the message key (a message without a key as
/// from no bytes). A `nullable` value serde reads tombstones (messages without a value) as none.
///
/// Instance i of n reads the partitions p with p mod n = i, assigned directly (no consumer
/// group rebalancing: the job decides who reads what). Checkpoints keep each partition's next
/// offset; a restore, with any parallelism, deals the partitions out anew from those. Without a
/// checkpoint a partition starts at the group's committed offset, else as `auto.offset.reset`
/// says. Once a checkpoint completed, its offsets are committed to the group (for lag
/// monitoring and a fresh start; Sluice restores from its own checkpoints). While output credit
/// is out the source takes nothing from librdkafka, whose prefetch queue then fills to its bound
/// (`queued.max.messages.kbytes`, 16 MB unless given) and stops fetching: backpressure reaches
/// the brokers and the lag stays in Kafka. (Pausing the partitions instead would make librdkafka
/// drop what it prefetched at every pause and fetch it again at every resume.) The watermark is
/// just below the oldest of the partitions' newest timestamps, idle partitions left out
/// (`idle_timeout`); each partition is a split for a watermark strategy given to the source
/// instead (`pipeline::source(src, strategy)`), every assigned one from the start. A message the
/// serdes cannot decode fails the instance with the partition, offset and the serde's error; under
/// `failure_policy::skip` it becomes a dead letter instead, with that error and the message's raw
/// key and value bytes.
template <serde ValueSerde = string_serde, class KeySerde = no_key>
class kafka_source {
public:
  static constexpr bool keyed = !std::is_same_v<KeySerde, no_key>;
  using value_type = typename ValueSerde::value_type;
  using output_type = typename message_record<KeySerde, ValueSerde>::type;

  kafka_source(kafka_source_options options, KeySerde key_serde, ValueSerde value_serde)
    : options_(std::move(options)),
      key_serde_(std::move(key_serde)),
      value_serde_(std::move(value_serde)) {}

  // Each instance makes its own consumer: copies carry the options only.
  kafka_source(const kafka_source& other)
    : options_(other.options_), key_serde_(other.key_serde_), value_serde_(other.value_serde_) {}
  kafka_source(kafka_source&&) noexcept = default;

  /// Under `failure_policy::skip`, a message that does not decode becomes a dead letter.
  static constexpr bool skips_undecodable_records = true;

  [[nodiscard]] bool bounded() const { return options_.bounded; }

  void open(source_context<output_type>& ctx) {
    consumer_ =
      std::make_unique<kafka::consumer>(options_.properties, options_.topic, options_.timeout);
    const auto count = consumer_->partition_count();
    partitions_.clear();
    for (auto p = static_cast<int32_t>(ctx.info().index); p < count;
         p += static_cast<int32_t>(ctx.info().parallelism)) {
      kafka_partition split{p, consumer_->start_offset(p), -1};
      if (options_.bounded)
        split.end = consumer_->end_offset(p);
      partitions_.push_back(split);
    }
    assign();
  }

  [[nodiscard]] std::vector<kafka_partition> checkpoint_splits() const { return partitions_; }

  void restore_splits(std::vector<kafka_partition> partitions) {
    partitions_ = std::move(partitions);
    std::sort(partitions_.begin(), partitions_.end(),
              [](const auto& a, const auto& b) { return a.partition < b.partition; });
    assign();
  }

  /// Remembers the offsets of checkpoint `id`, to commit them once it completes.
  void on_checkpoint(uint64_t id) { taken_.emplace_back(id, offsets()); }

  void on_checkpoint_complete(uint64_t id) {
    std::vector<std::pair<int32_t, int64_t>> completed;
    while (!taken_.empty() && taken_.front().first <= id) {
      completed = std::move(taken_.front().second);
      taken_.erase(taken_.begin());
    }
    // A bounded source that read everything commits for the last time: wait for it.
    consumer_->commit(completed, finished());
  }

  source_step produce(source_context<output_type>& ctx, size_t max_records) {
    if (finished())
      return source_step::done();
    if (!announced_) {
      // Each partition holds the watermark back from the start, not from its first message.
      for (const auto& split : partitions_)
        ctx.begin_split(static_cast<uint64_t>(split.partition));
      announced_ = true;
    }
    auto handed = consumer_->poll(
      max_records,
      [&](const kafka::message_view& m) {
        auto i = index_of(m.partition);
        auto& split = partitions_[i];
        if (m.offset < split.offset || (split.end >= 0 && m.offset >= split.end))
          return;
        split.offset = m.offset + 1;
        ctx.begin_split(static_cast<uint64_t>(m.partition));
        watermarks_.begin(static_cast<uint64_t>(m.partition));
        watermarks_.on_event(m, m.time);
        if (auto value = decode(m, ctx))
          ctx.emit(std::move(*value), m.time);
      },
      [&](int32_t p, int64_t end) {
        auto& split = partitions_[index_of(p)];
        split.offset = std::max(split.offset, end);
      });
    advance_watermark(ctx);
    if (finished())
      return source_step::done();
    return handed > 0 ? source_step::more() : source_step::wait(poll_interval);
  }

private:
  /// How long an instance with nothing fetched waits before it looks again.
  static constexpr std::chrono::microseconds poll_interval{1'000};

  [[nodiscard]] std::vector<std::pair<int32_t, int64_t>> offsets() const {
    std::vector<std::pair<int32_t, int64_t>> result;
    for (const auto& split : partitions_)
      result.emplace_back(split.partition, split.offset);
    return result;
  }

  void assign() {
    consumer_->assign(offsets());
    watermarks_ = {out_of_orderness_watermarks{}, options_.idle_timeout};
    for (const auto& split : partitions_)
      watermarks_.begin(static_cast<uint64_t>(split.partition));
    announced_ = false;
    taken_.clear();
  }

  [[nodiscard]] bool finished() const {
    return options_.bounded && std::all_of(partitions_.begin(), partitions_.end(), [](auto& s) {
             return s.end >= 0 && s.offset >= s.end;
           });
  }

  size_t index_of(int32_t p) const {
    auto i = std::find_if(partitions_.begin(), partitions_.end(),
                          [p](const auto& s) { return s.partition == p; });
    if (i == partitions_.end())
      throw kafka::kafka_error("Kafka topic '" + options_.topic + "': a message of partition "
                                 + std::to_string(p) + ", which this instance does not read",
                               options_.topic);
    return static_cast<size_t>(i - partitions_.begin());
  }

  /// The record of message `m`; nothing, when it does not decode and the instance skips it to
  /// the dead letters (with its key and value bytes). @throws serde_error otherwise.
  std::optional<output_type> decode(const kafka::message_view& m,
                                    source_context<output_type>& ctx) const {
    try {
      return decode(m);
    } catch (const serde_error& e) {
      if (!ctx.skips_failed_records())
        throw;
      ctx.skip_raw(std::string{m.key}, e.what(), std::string{m.value}, m.time);
      return std::nullopt;
    }
  }

  output_type decode(const kafka::message_view& m) const {
    const char* part = "value";
    try {
      if constexpr (keyed) {
        part = "key";
        auto key = key_serde_.decode(m.key);
        part = "value";
        return {std::move(key), decode_value(m)};
      } else {
        return decode_value(m);
      }
    } catch (const serde_error& e) {
      throw serde_error("Kafka topic '" + options_.topic + "' partition "
                        + std::to_string(m.partition) + " offset " + std::to_string(m.offset) + " "
                        + part + ": " + e.what());
    }
  }

  /// A tombstone is none for a nullable serde, and as a value of no bytes for any other.
  value_type decode_value(const kafka::message_view& m) const {
    if constexpr (is_nullable_serde<ValueSerde>)
      if (m.tombstone)
        return std::nullopt;
    return value_serde_.decode(m.value);
  }

  /// Just below the oldest of the partitions' newest timestamps (a message of that partition
  /// with the same timestamp is still on time); a finished or idle partition holds nothing
  /// back, and with every partition idle an unbounded instance is idle.
  void advance_watermark(source_context<output_type>& ctx) {
    for (const auto& s : partitions_) {
      if (s.end >= 0 && s.offset >= s.end) {
        watermarks_.end(static_cast<uint64_t>(s.partition));
        ctx.end_split(static_cast<uint64_t>(s.partition));
      }
    }
    auto combined = watermarks_.combine(std::chrono::steady_clock::now());
    if (options_.idle_timeout.count() > 0)
      ctx.mark_idle(combined.idle && !options_.bounded);
    if (!combined.idle && combined.watermark != min_timestamp)
      ctx.emit_watermark(combined.watermark);
  }

  kafka_source_options options_;
  KeySerde key_serde_;
  ValueSerde value_serde_;
  std::unique_ptr<kafka::consumer> consumer_;
  std::vector<kafka_partition> partitions_;
  /// The watermark of each partition: the newest timestamp read (monotonous_timestamps).
  split_watermarks<out_of_orderness_watermarks> watermarks_{out_of_orderness_watermarks{},
                                                            std::chrono::milliseconds{0}};
  /// The partitions were named to the context as splits.
  bool announced_ = false;
  /// The offsets of the checkpoints taken and not yet completed, oldest first.
  std::vector<std::pair<uint64_t, std::vector<std::pair<int32_t, int64_t>>>> taken_;
};

} // namespace op

/// A source of the values of Kafka topic `options.topic` (see op::kafka_source).
template <serde ValueSerde = string_serde>
op::kafka_source<ValueSerde> kafka_source(kafka_source_options options,
                                          ValueSerde value_serde = {}) {
  return op::kafka_source<ValueSerde>{std::move(options), no_key{}, std::move(value_serde)};
}

/// A source of the messages of Kafka topic `options.topic` as `std::pair<Key, Value>` (see
/// op::kafka_source).
template <serde KeySerde, serde ValueSerde>
op::kafka_source<ValueSerde, KeySerde> kafka_source(kafka_source_options options,
                                                    KeySerde key_serde, ValueSerde value_serde) {
  return op::kafka_source<ValueSerde, KeySerde>{std::move(options), std::move(key_serde),
                                                std::move(value_serde)};
}

} // namespace sluice
