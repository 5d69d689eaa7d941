#pragma once

// The jobs sluice-chaos runs: running sums per key over distinct positive numbers, in several
// shapes, ending in several kinds of sink.

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "sluice/all.hpp"

namespace chaos {

/// A result of the jobs: a key and the running sum of its numbers so far.
using sum_record = std::pair<uint64_t, uint64_t>;

/// The keys the numbers spread over: number v has key v % keys.
constexpr uint64_t keys = 97;

/// How the job ends.
enum class sink_kind {
  collect, ///< into a vector, committed in two phases
  file,    ///< write_file, one file per instance, cut back on restore
  kafka,   ///< an exactly-once kafka_sink into a topic of librdkafka's mock cluster, as JSON
};

/// What a shape is built with.
struct job_spec {
  /// The numbers read in all: 1, 2, ..., records, spread over the shape's sources.
  uint64_t records = 0;
  /// Records per second over all sources (0: unlimited).
  double rate = 0;
  /// Every operator's supervision.
  sluice::supervision supervise;
  sink_kind sink = sink_kind::collect;
  /// For `collect`: where the results go.
  std::vector<sum_record>* out = nullptr;
  /// For `file`: the path write_file is given.
  std::string path;
  /// For `kafka`: the cluster and the topic written.
  std::string bootstrap;
  std::string topic;
};

/// An operator that faults may hit.
struct target {
  std::string name;
  uint32_t parallelism = 1;
};

/// A job shape.
struct shape {
  std::string name;
  std::string description;
  /// The operators faults may hit, sources and sink included.
  std::vector<target> targets;
  /// Adds the job to `p`.
  void (*build)(sluice::pipeline& p, const job_spec& spec);
};

/// Every shape.
const std::vector<shape>& all_shapes();

/// The shape called `name`, or null.
const shape* find_shape(const std::string& name);

[[nodiscard]] std::string to_string(sink_kind kind);

} // namespace chaos
