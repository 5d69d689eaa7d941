#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace sluice {

/// The operator graph whose state a pipeline's state directory holds (`<dir>/graph`): what a
/// restart must match, and the parallelism each operator's state was written with.
struct graph_manifest {
  struct operator_entry {
    std::string name;
    uint32_t parallelism = 1;
    /// The record types in and out, as "In -> Out".
    std::string record_types;
  };
  struct edge_entry {
    std::string from;
    std::string to;
    std::string partitioning;
  };

  uint32_t max_parallelism = 128;
  std::vector<operator_entry> operators;
  std::vector<edge_entry> edges;

  /// The manifest at `path`, or nothing if there is none.
  /// @throws state_error naming the path if it cannot be read or parsed.
  static std::optional<graph_manifest> load(const std::string& path);

  /// Writes the manifest to `path` durably (a temporary file, fsync, rename).
  /// @throws state_error naming the path.
  void save(const std::string& path) const;

  /// Why state written for `stored` cannot be restored into this graph (another operator graph
  /// or max_parallelism), or nothing if it can. Parallelism may differ.
  [[nodiscard]] std::optional<std::string> incompatibility(const graph_manifest& stored) const;
};

/// Makes the state directory `pipeline_dir` ready for a run of `graph`.
///
/// - No manifest there: `graph`'s is written.
/// - A manifest of another operator graph: throws state_error naming the directory and the
///   difference; nothing is changed.
/// - The same graph with other parallelism for some operators: their state is restored to
///   checkpoint `checkpoint` (for each old instance its own last completed one, if empty) and
///   moved to their new instances: keyed state by key group, operator state as its kind says
///   (see operator_list_state). The move survives a crash at any point: the new instance
///   directories are built aside, then swapped in and the manifest updated; a run that finds a
///   swap begun finishes it first.
void prepare_state_directory(const std::string& pipeline_dir, const graph_manifest& graph,
                             std::optional<uint64_t> checkpoint);

/// `name` as one safe path component: every character other than letters, digits and `-_.#`
/// replaced by `_` (and `_` put in front of an empty name, `.` and `..`).
[[nodiscard]] std::string safe_path_component(const std::string& name);

/// The directory of instance `index` of the operator named `operator_name`, under its
/// pipeline's directory: `<operator_name>-<index>`, the name made a safe path component.
[[nodiscard]] std::string instance_directory_name(const std::string& operator_name, uint32_t index);

} // namespace sluice
