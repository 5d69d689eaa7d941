#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <caf/meta/type_name.hpp>

#include "sluice/context.hpp"
#include "sluice/error.hpp"
#include "sluice/operator.hpp"
#include "sluice/operators/kafka_client.hpp"
#include "sluice/serde.hpp"

namespace sluice {

/// What a kafka_sink promises about each record.
enum class kafka_delivery {
  /// Every record is written at least once: before each checkpoint the sink waits until the
  /// brokers acknowledged what it sent. A restart may write some records again.
  at_least_once,
  /// Every record is written once, in Kafka transactions committed when a checkpoint
  /// completes; `read_committed` consumers see each exactly once. Needs checkpoints.
  exactly_once,
};

/// Where a kafka_sink writes, and how.
struct kafka_sink_options {
  std::string topic;
  /// librdkafka properties; `bootstrap.servers` is required. Sluice sets
  /// `enable.idempotence=true` and `partitioner=murmur2_random` (keys go to the partitions
  /// Kafka's Java clients choose) unless given.
  kafka::properties properties;
  kafka_delivery delivery = kafka_delivery::at_least_once;
  /// Exactly once: instance i uses transactional id `<prefix>-<i>`, stable across restarts,
  /// so a restarted instance fences its predecessor. Empty: `<pipeline>-<operator>`. Two jobs
  /// writing at the same time need different prefixes.
  std::string transactional_id_prefix;
  /// How long a full producer queue may block, a flush wait for acknowledgements, and a
  /// transaction take to commit, before the sink fails.
  std::chrono::milliseconds timeout{30'000};
};

namespace op {

/// A message as the exactly-once sink keeps it until its checkpoint completes.
struct kafka_message {
  std::string key;
  bool keyed = false;
  std::string value;
  /// No value: a tombstone.
  bool tombstone = false;
  timestamp time = min_timestamp;

  [[nodiscard]] std::optional<std::string_view> payload() const {
    if (tombstone)
      return std::nullopt;
    return value;
  }
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, kafka_message& x) {
  return f(caf::meta::type_name("sluice.kafka_message"), x.key, x.keyed, x.value, x.tombstone,
           x.time);
}

/// The messages instance `writer` received between the barriers of two checkpoints, to be
/// written once `checkpoint` completes. An entry without messages marks the writer as one
/// whose transactional id a restore must fence.
struct kafka_epoch {
  uint32_t writer = 0;
  uint64_t checkpoint = 0;
  std::vector<kafka_message> messages;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, kafka_epoch& x) {
  return f(caf::meta::type_name("sluice.kafka_epoch"), x.writer, x.checkpoint, x.messages);
}

/// A sink that writes records to a Kafka topic: each record's value encoded by `ValueSerde`,
/// with its event time as the Kafka timestamp (none for records without one; an event time
/// Kafka cannot hold, before 1970 or `max_timestamp`, fails the instance naming it). With a
/// `KeySerde` other than `no_key` the records are `std::pair<Key, Value>` and the key becomes
/// the message key (and so chooses the partition). A `nullable` value serde writes none as a
/// tombstone (a message without a value).
///
/// At least once (the default): every record before a checkpoint's barrier is acknowledged by
/// the brokers before the instance takes the checkpoint, and everything at the end of the
/// stream. A full producer queue is backpressure; a message the brokers refuse fails the
/// instance, naming the topic, partition and error.
///
/// Exactly once: librdkafka cannot resume a transaction that a failed producer left open, so
/// an epoch's messages (those between two barriers) are kept in the instance's checkpointed
/// operator state and written when their checkpoint completes, in one transaction that also
/// stores the epoch's checkpoint id as the writer's progress. A restored instance first fences
/// its predecessor (aborting an open transaction), reads its progress, and writes again the
/// epochs of the restored checkpoint that were not committed. Rescaled down, instance 0 does
/// that for the writers that are gone. The cost: the output is written to LMDB once more, and
/// it becomes visible when a checkpoint completes.
template <serde ValueSerde = string_serde, class KeySerde = no_key>
class kafka_sink {
public:
  static constexpr bool keyed = !std::is_same_v<KeySerde, no_key>;
  using input_type = typename message_record<KeySerde, ValueSerde>::type;
  using output_type = no_output;

  kafka_sink(kafka_sink_options options, KeySerde key_serde, ValueSerde value_serde)
    : options_(std::move(options)),
      key_serde_(std::move(key_serde)),
      value_serde_(std::move(value_serde)) {}

  // Each instance makes its own producer: copies carry the options only.
  kafka_sink(const kafka_sink& other)
    : options_(other.options_), key_serde_(other.key_serde_), value_serde_(other.value_serde_) {}
  kafka_sink(kafka_sink&&) noexcept = default;

  /// @throws kafka::kafka_error when the brokers cannot be reached or a restored epoch cannot
  /// be written; std::invalid_argument on exactly once without checkpoints.
  void open(context<no_output>& ctx) {
    if (options_.delivery == kafka_delivery::at_least_once) {
      producer_ =
        std::make_unique<kafka::producer>(options_.properties, options_.topic, options_.timeout);
      return;
    }
    const auto& info = ctx.info();
    if (!info.checkpointed)
      throw failure(errc::configuration, "Kafka topic '" + options_.topic
                                  + "': exactly-once delivery needs checkpoints "
                                    "(set runtime_config::checkpoint_interval)", options_.topic);
    check_transaction_timeout();
    index_ = info.index;
    prefix_ = options_.transactional_id_prefix.empty() ? info.pipeline + "-" + info.operator_name
                                                       : options_.transactional_id_prefix;
    epochs_.emplace(ctx.state().template union_list<kafka_epoch>(epochs_state));
    std::map<uint32_t, std::vector<kafka_epoch>> adopted;
    for (auto& epoch : epochs_->get())
      if (epoch.writer == index_ || (index_ == 0 && epoch.writer >= info.parallelism))
        adopted[epoch.writer].push_back(std::move(epoch));
    for (auto& [writer, epochs] : adopted) {
      if (writer == index_)
        continue;
      // A writer that is gone: fence it and finish what it left.
      auto gone = make_producer(writer);
      write_unfinished(*gone, epochs);
    }
    producer_ = make_producer(index_);
    write_unfinished(*producer_, adopted[index_]);
  }

  void on_batch(std::vector<record<input_type>>& records, context<no_output>&) {
    if (options_.delivery == kafka_delivery::at_least_once) {
      for (const auto& r : records) {
        auto m = encode(r);
        producer_->send(m.key, m.keyed, m.payload(), m.time);
      }
      return;
    }
    for (const auto& r : records)
      pending_.push_back(encode(r));
  }

  void on_checkpoint(uint64_t id, context<no_output>&) {
    if (options_.delivery == kafka_delivery::at_least_once)
      return producer_->flush();
    staged_.push_back({index_, id, std::move(pending_)});
    pending_.clear();
    auto entries = staged_;
    entries.push_back({index_, 0, {}});
    epochs_->update(entries);
  }

  void on_checkpoint_complete(uint64_t id, context<no_output>&) {
    if (options_.delivery == kafka_delivery::exactly_once)
      write_completed(id);
  }

  /// The end of the stream follows the job's final checkpoint, completed: everything is
  /// written.
  void on_end(context<no_output>&) {
    if (options_.delivery == kafka_delivery::at_least_once)
      return producer_->flush();
    if (!pending_.empty())
      staged_.push_back(
        {index_, staged_.empty() ? 0 : staged_.back().checkpoint, std::move(pending_)});
    write_completed(UINT64_MAX);
  }

private:
  static constexpr const char* epochs_state = "kafka epochs";

  /// @throws failure when the record's event time cannot be a Kafka timestamp: failing before
  /// the message is queued keeps a broker's refusal from failing every later transaction.
  kafka_message encode(const record<input_type>& r) const {
    if (r.time != min_timestamp && (r.time < 0 || r.time == max_timestamp))
      throw failure(
        errc::kafka,
        "Kafka topic '" + options_.topic + "': a record's event time "
          + (r.time == max_timestamp ? "max_timestamp (the end of time)" : std::to_string(r.time))
          + " cannot be a Kafka timestamp (milliseconds since 1970, not negative)",
        options_.topic);
    kafka_message m;
    m.time = r.time;
    if constexpr (keyed) {
      m.keyed = true;
      m.key = key_serde_.encode(r.value.first);
      encode_value(r.value.second, m);
    } else {
      encode_value(r.value, m);
    }
    return m;
  }

  /// None of a nullable serde becomes a tombstone.
  void encode_value(const typename ValueSerde::value_type& value, kafka_message& m) const {
    if constexpr (is_nullable_serde<ValueSerde>)
      if (!value) {
        m.tombstone = true;
        return;
      }
    m.value = value_serde_.encode(value);
  }

  void check_transaction_timeout() const {
    auto given = options_.properties.find("transaction.timeout.ms");
    if (given == options_.properties.end())
      return;
    // A transaction lasts as long as it takes to write one epoch, which the sink allows
    // `timeout` for; the broker must not abort it sooner.
    if (std::stoll(given->second) < options_.timeout.count())
      throw failure(errc::configuration,
                    "Kafka topic '" + options_.topic + "': transaction.timeout.ms=" + given->second
                      + " is shorter than the sink's timeout of "
                      + std::to_string(options_.timeout.count()) + " ms",
                    options_.topic);
  }

  std::unique_ptr<kafka::producer> make_producer(uint32_t writer) const {
    auto properties = options_.properties;
    properties["transactional.id"] = prefix_ + "-" + std::to_string(writer);
    properties.try_emplace("transaction.timeout.ms", std::to_string(options_.timeout.count()));
    return std::make_unique<kafka::producer>(properties, options_.topic, options_.timeout);
  }

  /// Writes the epochs of a restored checkpoint that `producer`'s writer did not commit.
  static void write_unfinished(kafka::producer& producer, std::vector<kafka_epoch>& epochs) {
    auto progress = producer.committed_progress();
    std::erase_if(epochs, [&](const auto& e) { return e.checkpoint <= progress; });
    if (!epochs.empty())
      write(producer, epochs);
  }

  /// Writes `epochs` in one transaction, with the newest checkpoint among them as progress;
  /// epochs without messages need none.
  static void write(kafka::producer& producer, const std::vector<kafka_epoch>& epochs) {
    uint64_t progress = 0;
    bool empty = true;
    for (const auto& e : epochs) {
      progress = std::max(progress, e.checkpoint);
      empty = empty && e.messages.empty();
    }
    if (empty)
      return;
    producer.commit(progress, [&] {
      for (const auto& e : epochs)
        for (const auto& m : e.messages)
          producer.send(m.key, m.keyed, m.payload(), m.time);
    });
  }

  /// Writes the staged epochs up to checkpoint `id`.
  void write_completed(uint64_t id) {
    auto last = std::find_if(staged_.begin(), staged_.end(),
                             [id](const auto& e) { return e.checkpoint > id; });
    if (last == staged_.begin())
      return;
    std::vector<kafka_epoch> done{std::make_move_iterator(staged_.begin()),
                                  std::make_move_iterator(last)};
    staged_.erase(staged_.begin(), last);
    write(*producer_, done);
  }

  kafka_sink_options options_;
  KeySerde key_serde_;
  ValueSerde value_serde_;
  std::unique_ptr<kafka::producer> producer_;
  /// Exactly once: this instance, its transactional ids' prefix, its epochs in operator state,
  /// the epochs staged at barriers and not written yet (oldest first), and what came since the
  /// last barrier.
  uint32_t index_ = 0;
  std::string prefix_;
  std::optional<operator_list_state<kafka_epoch>> epochs_;
  std::vector<kafka_epoch> staged_;
  std::vector<kafka_message> pending_;
};

} // namespace op

/// A sink writing each record's value to Kafka topic `options.topic`, without a key (see
/// op::kafka_sink).
template <serde ValueSerde = string_serde>
op::kafka_sink<ValueSerde> kafka_sink(kafka_sink_options options, ValueSerde value_serde = {}) {
  return op::kafka_sink<ValueSerde>{std::move(options), no_key{}, std::move(value_serde)};
}

/// A sink writing `std::pair<Key, Value>` records to Kafka topic `options.topic` as messages
/// with that key and value (see op::kafka_sink).
template <serde KeySerde, serde ValueSerde>
op::kafka_sink<ValueSerde, KeySerde> kafka_sink(kafka_sink_options options, KeySerde key_serde,
                                                ValueSerde value_serde) {
  return op::kafka_sink<ValueSerde, KeySerde>{std::move(options), std::move(key_serde),
                                              std::move(value_serde)};
}

} // namespace sluice
