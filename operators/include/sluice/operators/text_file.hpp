#pragma once

#include <cstddef>
#include <cstdint>
#include <fstream>
#include <string>

#include "sluice/context.hpp"
#include "sluice/operator.hpp"

namespace sluice::op {

/// A bounded source of the lines of a text file (without their line ends).
///
/// With n instances, the file is cut into n byte ranges and each instance reads the lines that
/// start in its range, so every line is read exactly once whatever the parallelism.
class text_file {
public:
  using output_type = std::string;

  explicit text_file(std::string path) : path_(std::move(path)) {}

  // Each instance opens the file itself: copies carry the path only.
  text_file(const text_file& other) : path_(other.path_) {}
  text_file(text_file&&) noexcept = default;

  [[nodiscard]] bool bounded() const { return true; }

  /// @throws std::runtime_error naming the path when the file cannot be opened.
  void open(source_context<std::string>& ctx);

  source_step produce(source_context<std::string>& ctx, size_t max_records);

  /// The byte offset of the next line (checkpoints record it; restoring seeks there).
  [[nodiscard]] uint64_t checkpoint_position() const { return position_; }
  void restore_position(uint64_t position);

private:
  std::string path_;
  std::ifstream in_;
  uint64_t position_ = 0;
  uint64_t end_ = 0;
  std::string line_;
};

} // namespace sluice::op

namespace sluice {

/// A bounded source of the lines of the text file at `path`.
inline op::text_file text_file(std::string path) {
  return op::text_file{std::move(path)};
}

} // namespace sluice
