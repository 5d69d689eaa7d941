#pragma once

// Whether a job's results are exactly those of an undisturbed run.

#include <cstdint>
#include <string>
#include <vector>

#include "shapes.hpp"

namespace chaos {

/// How a job's results differ from an undisturbed run's.
///
/// Instances interleave differently in every run, so a key's running sums are not the same
/// sequence twice; what every undisturbed run has in common is this: sorted, a key's sums climb
/// by exactly its numbers, each once. A sum seen twice is a record counted twice downstream (a
/// result emitted again); a step that is not one of the key's numbers, or a number no step
/// takes, is a record lost or counted twice in state.
struct verdict {
  uint64_t results = 0;
  /// Keys whose sums are not exact, results seen more than once, and a description of the
  /// first few keys that differ.
  uint64_t keys_wrong = 0;
  uint64_t repeated = 0;
  std::string detail;

  [[nodiscard]] bool exact() const noexcept { return keys_wrong == 0; }
};

/// Checks `results` of a job over the numbers 1, 2, ..., `records`.
verdict check(std::vector<sum_record> results, uint64_t records);

/// The results `write_file` wrote to `path` (one file, or `path.part-i` for each instance):
/// lines "key,sum".
/// @throws std::runtime_error naming the file and line that is not of that form.
std::vector<sum_record> read_results(const std::string& path);

} // namespace chaos
