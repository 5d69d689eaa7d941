#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <ostream>
#include <string>
#include <vector>

#include <caf/deep_to_string.hpp>
#include <caf/meta/type_name.hpp>

#include <boost/json.hpp>

#include "sluice/record.hpp"
#include "sluice/text.hpp"

namespace sluice {

/// A record that user code failed on in an operator with `failure_policy::skip`: where it
/// failed, why, and the record itself (Kafka Streams' dead-letter queue entry).
struct dead_letter {
  std::string pipeline;
  std::string operator_name;
  uint32_t instance = 0;
  /// The record's key as text in a keyed operator; empty otherwise, or if the key failed too.
  std::string key;
  /// The text of the exception.
  std::string error;
  /// The record as text (see `record_text`).
  std::string payload;
  /// The record's event time.
  timestamp time = 0;

  friend bool operator==(const dead_letter&, const dead_letter&) = default;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, dead_letter& x) {
  return f(caf::meta::type_name("sluice.dead_letter"), x.pipeline, x.operator_name, x.instance,
           x.key, x.error, x.payload, x.time);
}

/// A dead letter as a JSON object with every field ("operator" for `operator_name`), so that
/// `json_serde<dead_letter>` writes dead letters to Kafka and reads them back.
void tag_invoke(boost::json::value_from_tag, boost::json::value& json, const dead_letter& letter);
dead_letter tag_invoke(boost::json::value_to_tag<dead_letter>, const boost::json::value& json);

/// One line of JSON with every field: how the printing and file sinks write a dead letter.
std::ostream& operator<<(std::ostream& os, const dead_letter& letter);

/// A record as text for a dead letter: as `to_text` renders it where it can, else as CAF
/// renders an inspectable type ("<unprintable>" for a type it cannot render).
template <class T>
std::string record_text(const T& value) {
  if constexpr (text_renderable<T>)
    return to_text(value);
  else
    return caf::deep_to_string(value);
}

/// The dead letters of a running job. Instances that skip records put them here, and the
/// job's dead-letter source emits them; it lives outside both so that what it holds outlives
/// their failed incarnations.
///
/// With checkpoints, each instance's letters commit in two phases, as the `collect` sink's
/// records do: those an instance put before the barrier of checkpoint c are staged under c and
/// committed when c completes. A restarted incarnation that restores to checkpoint c commits
/// what is staged up to c and drops the rest, which its replay puts again. Without checkpoints
/// letters commit at once. Committed letters are only ever appended, so a restarted
/// dead-letter source emits the same letters again from the position it restored.
class dead_letter_store {
public:
  /// Prepares for a new job: forgets every letter, and waits for the instances `producers`
  /// (job-wide instance numbers) to finish before its letters are all there.
  void reset(const std::vector<uint32_t>& producers, bool transactional);

  /// Instance `instance` (one of the producers) skipped a record.
  void put(uint32_t instance, dead_letter letter);

  /// Instance `instance` took checkpoint `checkpoint`: what it put since the last one is
  /// staged under it.
  void stage(uint32_t instance, uint64_t checkpoint);

  /// Checkpoint `checkpoint` completed: commits what `instance` staged up to it.
  void commit(uint32_t instance, uint64_t checkpoint);

  /// A new incarnation of `instance` restores to completed checkpoint `checkpoint`.
  void recover(uint32_t instance, uint64_t checkpoint);

  /// Instance `instance` ended its stream, after the job's last checkpoint: commits all it put.
  /// What a later incarnation puts again is ignored.
  void finish(uint32_t instance);

  /// Committed letters read by one of `stride` readers: up to `max` of the letters at
  /// `first`, `first + stride`, ..., and whether they are the last this reader gets.
  struct read_result {
    std::vector<dead_letter> letters;
    bool exhausted = false;
  };
  [[nodiscard]] read_result read(uint64_t first, uint64_t stride, size_t max) const;

private:
  struct producer {
    /// Put since the last checkpoint the instance took.
    std::vector<dead_letter> pending;
    /// Per checkpoint: put before its barrier (after the previous one's), not yet committed.
    std::map<uint64_t, std::vector<dead_letter>> staged;
    bool finished = false;
  };

  void append(std::vector<dead_letter>& letters);

  mutable std::mutex mutex_;
  bool transactional_ = false;
  std::map<uint32_t, producer> producers_;
  size_t unfinished_ = 0;
  std::vector<dead_letter> committed_;
};

} // namespace sluice
