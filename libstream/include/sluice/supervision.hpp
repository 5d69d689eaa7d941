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

/// What an operator's supervisor does when an instance fails, say because its user code threw
/// (Flink's restart strategies). Skipping the record to dead letters is not built yet.
enum class failure_policy {
  /// The supervisor escalates at once: no restart.
  fail,
  /// The supervisor restarts the instance from the last checkpoint.
  restart,
};

} // namespace sluice
