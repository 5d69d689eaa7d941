#pragma once

#include <string>

#include <boost/json.hpp>

#include "sluice/nexmark/model.hpp"

// Nexmark events as JSON, in the layout Flink's Nexmark reads from Kafka (its `ddl_kafka.sql`, JSON
// format): `{"event_type": 0|1|2, "person": {...}|null, "auction": {...}|null, "bid": {...}|null}`,
// fields named as Flink's (`emailAddress`, `initialBid`, `dateTime`, ...), times as
// "yyyy-MM-dd HH:mm:ss.SSS" in UTC. With these conversions `sluice::json_serde<nexmark::event>`
// writes and reads events: to a file of JSON lines (`write_file` / `text_file`) or a Kafka topic,
// so that another system can be given the very same events.

namespace sluice::nexmark {

/// A time as Flink's Nexmark writes it: "yyyy-MM-dd HH:mm:ss.SSS", UTC.
std::string format_date_time(timestamp ms);

void tag_invoke(boost::json::value_from_tag, boost::json::value& json, const event& e);

/// @throws std::invalid_argument naming the field that is missing or of the wrong type.
event tag_invoke(boost::json::value_to_tag<event>, const boost::json::value& json);

} // namespace sluice::nexmark
