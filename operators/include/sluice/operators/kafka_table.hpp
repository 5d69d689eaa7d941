#pragma once

// A changelog table read from a compacted Kafka topic, and a table written to one.

#include <optional>
#include <string>
#include <type_traits>
#include <utility>

#include "sluice/operators/kafka_sink.hpp"
#include "sluice/operators/kafka_source.hpp"
#include "sluice/pipeline.hpp"
#include "sluice/serde.hpp"
#include "sluice/table.hpp"

namespace sluice {

/// The table that Kafka topic `options.topic` holds, as Kafka Streams' `builder.table(topic)`:
/// each message sets the row of its key (decoded by `key_serde`) to its value (decoded by
/// `value_serde`), and a message without a value (a tombstone) deletes the row. Meant for a
/// compacted topic (`cleanup.policy=compact`), which keeps the newest message of every key; any
/// topic reads the same, only longer.
///
/// A kafka_source reads the topic from the start (unless `auto.offset.reset` or the group's
/// committed offsets say otherwise; see op::kafka_source for the options, bounded reading and
/// checkpoints), named `kafka_table/<topic>`; the rows are kept in the keyed state of the
/// `to_table` operator behind it (name it with `.name(...)` on the table), which `table_view`
/// reads from outside the job.
template <serde KeySerde, serde ValueSerde>
table<typename KeySerde::value_type, typename ValueSerde::value_type> kafka_table(
  pipeline& p, kafka_source_options options, KeySerde key_serde, ValueSerde value_serde) {
  using message =
    std::pair<typename KeySerde::value_type, std::optional<typename ValueSerde::value_type>>;
  auto name = "kafka_table/" + options.topic;
  auto messages = p.source(kafka_source(std::move(options), std::move(key_serde),
                                        nullable<ValueSerde>{std::move(value_serde)}));
  messages.name(std::move(name));
  return messages.key_by(&message::first).to_table([](const message& m) { return m.second; });
}

/// Writes table `t` to Kafka topic `options.topic` as its changelog, as Kafka Streams'
/// `table.toStream().to(topic)`: each change as a message keyed by the row's key (encoded by
/// `key_serde`), with the row's new value (encoded by `value_serde`), or without a value (a
/// tombstone) when the row was deleted. Compacted, the topic keeps each row's current value,
/// which `kafka_table` reads back. The sink is a kafka_sink, at least once or exactly once as
/// `options.delivery` says; returns it (a stream to name, `.name(...)`).
template <class K, class V, serde KeySerde, serde ValueSerde>
auto write_to_kafka(const table<K, V>& t, kafka_sink_options options, KeySerde key_serde,
                    ValueSerde value_serde) {
  static_assert(std::is_same_v<typename KeySerde::value_type, K>,
                "write_to_kafka: the key serde must encode the table's key type");
  static_assert(std::is_same_v<typename ValueSerde::value_type, V>,
                "write_to_kafka: the value serde must encode the table's value type");
  auto name = "write_to_kafka/" + options.topic;
  auto sunk = t.to_stream()
                .map([](const table_change<K, V>& c) {
                  return std::pair{c.key, c.new_value};
                })
                .sink(kafka_sink(std::move(options), std::move(key_serde),
                                 nullable<ValueSerde>{std::move(value_serde)}));
  sunk.name(std::move(name));
  return sunk;
}

} // namespace sluice
