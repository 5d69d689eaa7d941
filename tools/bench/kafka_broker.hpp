#pragma once

/// The real Kafka broker of the workloads that need one (tools/kafka-broker): started in the
/// parent once, by the first of them, and stopped at exit or on SIGINT/SIGTERM.

#include <string>
#include <utility>

namespace bench {

/// Starts the broker unless it runs; returns why there is none (a missing prerequisite: the
/// workload is skipped), or "". @throws std::runtime_error when the start fails otherwise.
std::string ensure_broker();

/// The running broker's bootstrap address.
const std::string& broker_bootstrap();

/// Creates topic `name` with `partitions` partitions, once per run.
void create_topic(const std::string& name, int partitions);

/// CPU seconds the broker's JVM has used so far, or 0.
double broker_cpu_s();

/// The Sluice source tree (its tools: tools/kafka-broker, tools/cluster-certs).
std::string source_dir();

/// Runs `command` in a shell: its exit status and its standard output.
std::pair<int, std::string> run_command(const std::string& command);

/// `s` quoted for a POSIX shell.
std::string shell_quoted(const std::string& s);

/// The last `n` characters of `s`, where an error message has room for them.
std::string tail(std::string s, size_t n);

} // namespace bench
