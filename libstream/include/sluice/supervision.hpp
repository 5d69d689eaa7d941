#pragma once

#include <chrono>
#include <cstdint>

namespace sluice {

/// Which children a supervisor restarts when one fails (as Erlang/OTP's strategies).
enum class restart_strategy {
  one_for_one,  ///< the failed child alone
  one_for_all,  ///< every child
  rest_for_one, ///< the failed child and those after it (for a pipeline: downstream of it)
};

/// How many restarts a supervisor makes within a time window before it gives up and escalates
/// to its parent.
struct restart_intensity {
  uint32_t max_restarts = 5;
  std::chrono::milliseconds within{60'000};
};

/// The delay before a restart: `initial`, multiplied by `factor` for each restart already made
/// within the intensity window, at most `max`, varied at random by up to ±`jitter` of itself.
struct restart_backoff {
  std::chrono::milliseconds initial{10};
  std::chrono::milliseconds max{1'000};
  double factor = 2.0;
  double jitter = 0.2;
};

/// What a supervisor does when a child fails.
struct supervision {
  restart_strategy strategy = restart_strategy::one_for_one;
  restart_intensity intensity;
  restart_backoff backoff;

  /// An operator's default: restart the failed instance alone, at most 5 times a minute.
  static supervision operator_default() { return {}; }

  /// A pipeline's default: an operator that gave up fails the pipeline.
  static supervision pipeline_default() {
    supervision s;
    s.intensity.max_restarts = 0;
    return s;
  }
};

/// What happens when an operator's user code throws on a record (Flink's restart strategies,
/// Kafka Streams' dead-letter queue).
enum class failure_policy {
  /// The instance fails and its supervisor escalates at once: no restart.
  fail,
  /// The instance fails and its supervisor restarts it from the last checkpoint.
  restart,
  /// The record goes to the pipeline's dead letters (`pipeline::dead_letters()`) and the
  /// instance goes on with the next. Failures outside the per-record user code (a throwing
  /// end or watermark hook, a lost instance) restart it as under `restart`.
  skip,
};

} // namespace sluice
