#pragma once

// What a runtime does with a pipeline's graph before it spawns anything: checks it, resolves
// parallelism and partitioning, numbers the channels and readies the state directory. The
// single-process runtime and a cluster node (sluice/cluster/node.hpp) share it.

#include <optional>
#include <string>
#include <vector>

#include <caf/error.hpp>
#include <caf/expected.hpp>

#include "sluice/actors/checkpoint_coordinator.hpp"
#include "sluice/checkpoint_record.hpp"
#include "sluice/config.hpp"
#include "sluice/detail/graph.hpp"
#include "sluice/state_layout.hpp"

namespace sluice {

class pipeline;

namespace detail {

/// The runtimes' access to a pipeline's graph.
struct pipeline_access {
  static graph& graph_of(pipeline& p);
  static std::shared_ptr<graph> shared_graph_of(pipeline& p);
};

/// An `errc::configuration` error of pipeline `pipeline`, naming the operator `node` if the
/// error is its.
caf::error invalid_pipeline(const std::string& pipeline, const std::string& what,
                            const node_base* node = nullptr);

/// Checks graph `g` of pipeline `pipeline` against `config`, and resolves it for a run: the
/// names of added stages, every operator's parallelism and the job-wide number of its first
/// instance, and every edge's partitioning. Returns
/// whether the job runs in batch mode, or an `errc::configuration` error naming what is wrong.
caf::expected<bool> resolve_graph(graph& g, const std::string& pipeline,
                                  const runtime_config& config);

/// Numbers the channels of every edge at both ends (see channel_plan).
std::vector<channel_plan> plan_channels(const graph& g);

/// The operator graph as the state directory records it.
graph_manifest manifest_of(const graph& g, uint32_t max_parallelism);

/// Where a job starts from: its checkpoint record, and the checkpoint its state restores to.
struct job_start {
  checkpoint_record record;
  std::optional<uint64_t> restore_to;
};

/// Reads the checkpoint record of pipeline `pipeline` (with checkpoints) from the record
/// path in `config.state_dir`. Errors: `errc::state` or `errc::io` naming the record.
caf::expected<job_start> read_job_start(const std::string& pipeline, const runtime_config& config);

/// Readies the state directory of pipeline `pipeline` for instances that restore to
/// `restore_to` (LMDB state only): its state moved first if the parallelism changed.
/// Errors: `errc::state` naming the directory.
caf::error prepare_state(const graph& g, const std::string& pipeline, const runtime_config& config,
                         std::optional<uint64_t> restore_to);

/// Adds every instance of the job (by number: its control handle and name) and its sources to
/// the checkpoint coordinator's settings.
void add_checkpoint_participants(const graph& g, coordinator_config& cc);

/// The path of the checkpoint record of pipeline `pipeline`.
std::string checkpoint_record_path(const std::string& pipeline, const runtime_config& config);

} // namespace detail
} // namespace sluice
