#pragma once

// Where the sources are, and where the build put the programs the tests start. Only
// build_paths.cpp is compiled with these paths, so every other test file compiles to the same
// object in any clone of the repository, and a fresh clone's build reuses the compiler cache.

#include <string>

namespace sluice::test {

/// The repository's root directory.
std::string source_dir();

/// tests/integration/wordcount_job.cpp, built.
std::string wordcount_job();

/// tests/integration/kafka_count_job.cpp, built.
std::string kafka_count_job();

/// tests/integration/window_model_job.cpp, built.
std::string window_model_job();

/// tests/integration/cluster_node_job.cpp, built.
std::string cluster_node_job();

/// examples/nexmark.cpp, built; the tests that run it need SLUICE_HAS_NEXMARK_EXAMPLE.
std::string nexmark_example();

} // namespace sluice::test
