#pragma once

#include <cstddef>
#include <cstdint>
#include <fstream>
#include <string>
#include <vector>

#include <caf/meta/type_name.hpp>

#include "sluice/context.hpp"
#include "sluice/operator.hpp"

namespace sluice::op {

/// A share of a text file: the lines that start at byte `position` or later and before byte
/// `end`; `position` is always the start of a line.
struct byte_range {
  uint64_t position = 0;
  uint64_t end = 0;

  friend bool operator==(const byte_range&, const byte_range&) = default;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, byte_range& x) {
  return f(caf::meta::type_name("sluice.byte_range"), x.position, x.end);
}

/// A bounded source of the lines of a text file (without their line ends).
///
/// With n instances, the file is cut into n byte ranges and each instance reads the lines that
/// start in its range, so every line is read exactly once whatever the parallelism. Checkpoints
/// keep the ranges still to read; a restore with another parallelism deals them out anew. Each
/// range is a split for a watermark strategy given to the source, holding the watermark back
/// from the start: an instance reads its ranges one after the other, and the lines of a range
/// not yet begun must not be late.
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

  /// Checkpoints keep the ranges still to read; restoring continues from them, in file order.
  [[nodiscard]] std::vector<byte_range> checkpoint_splits() const { return ranges_; }
  void restore_splits(std::vector<byte_range> ranges);

private:
  /// Seeks to the start of the first range.
  void seek();

  /// Reads the next line (without its line end) into `line`, a string of its own; false at
  /// the end of the file.
  bool read_line(std::string& line);

  std::string path_;
  std::ifstream in_;
  /// The ranges still to read, in file order; the first is being read.
  std::vector<byte_range> ranges_;
  /// What was read from the file and not yet cut into lines: `chunk_[begin_, end_)`. Reading in
  /// chunks gives every line exactly its own allocation (getline grows a string as it goes).
  std::vector<char> chunk_;
  size_t begin_ = 0;
  size_t end_ = 0;
  std::string line_;
  /// The ranges were named to the context as splits.
  bool announced_ = false;
};

} // namespace sluice::op

namespace sluice {

/// A bounded source of the lines of the text file at `path`.
inline op::text_file text_file(std::string path) {
  return op::text_file{std::move(path)};
}

} // namespace sluice
