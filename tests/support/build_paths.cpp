#include "support/build_paths.hpp"

namespace sluice::test {

std::string source_dir() {
  return SLUICE_SOURCE_DIR;
}

std::string wordcount_job() {
  return SLUICE_WORDCOUNT_JOB;
}

std::string kafka_count_job() {
  return SLUICE_KAFKA_COUNT_JOB;
}

std::string window_model_job() {
  return SLUICE_WINDOW_MODEL_JOB;
}

std::string cluster_node_job() {
  return SLUICE_CLUSTER_NODE_JOB;
}

std::string nexmark_example() {
#ifdef SLUICE_NEXMARK_EXAMPLE
  return SLUICE_NEXMARK_EXAMPLE;
#else
  return {};
#endif
}

} // namespace sluice::test
