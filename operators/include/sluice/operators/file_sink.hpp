#pragma once

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "sluice/context.hpp"
#include "sluice/interfaces.hpp"
#include "sluice/text.hpp"

namespace sluice::op {

/// A sink that writes one line per record to a file. With one instance it writes `path`; with n
/// instances instance i writes `path.part-i`, so instances never share a file.
///
/// Exactly once with checkpoints: at each checkpoint it flushes the file and records its
/// length in its keyed state. An instance restored to a checkpoint cuts the file back to the
/// length recorded then, so what it wrote after the checkpoint is written again exactly once.
/// Without a restored checkpoint it starts the file afresh.
template <class T>
class file_sink {
public:
  using input_type = T;
  using output_type = no_output;

  explicit file_sink(std::string path) : path_(std::move(path)) {}

  // Each instance opens its own file: copies carry the path only.
  file_sink(const file_sink& other) : path_(other.path_) {}
  file_sink(file_sink&&) noexcept = default;

  /// @throws std::runtime_error naming the path when the file cannot be created.
  void open(context<no_output>& ctx) {
    if (ctx.info().parallelism > 1)
      path_ += ".part-" + std::to_string(ctx.info().index);
    length_ = ctx.state().template table<uint32_t, uint64_t>(length_state);
    if (const auto* length = length_->find(0)) {
      std::error_code ec;
      std::filesystem::resize_file(path_, *length, ec);
      if (ec)
        throw std::runtime_error("cannot cut output file '" + path_ + "' back to "
                                 + std::to_string(*length) + " bytes: " + ec.message());
      out_.open(path_, std::ios::binary | std::ios::in | std::ios::out);
      out_.seekp(0, std::ios::end);
    } else {
      out_.open(path_, std::ios::binary | std::ios::trunc);
    }
    if (!out_)
      throw std::runtime_error("cannot create output file '" + path_
                               + "': " + std::strerror(errno));
  }

  void on_checkpoint(context<no_output>&) {
    out_.flush();
    check();
    length_->upsert(0) = static_cast<uint64_t>(out_.tellp());
  }

  void on_batch(std::vector<record<T>>& records, context<no_output>&) {
    for (const auto& r : records)
      out_ << to_text(r.value) << '\n';
    check();
  }

  void on_end(context<no_output>&) {
    out_.flush();
    check();
  }

private:
  void check() {
    if (!out_)
      throw std::runtime_error("cannot write output file '" + path_ + "'");
  }

  static constexpr const char* length_state = "~file length";

  std::string path_;
  std::ofstream out_;
  std::shared_ptr<keyed_table<uint32_t, uint64_t>> length_;
};

} // namespace sluice::op

namespace sluice {

/// A sink writing one line per record to the file at `path` (`path.part-i` per instance when
/// parallel).
namespace op {

/// Makes a file sink for whatever record type the stream has.
struct file_sink_factory {
  std::string path;

  template <class T>
  file_sink<T> bind() const {
    return file_sink<T>{path};
  }
};

} // namespace op

inline op::file_sink_factory write_file(std::string path) {
  return op::file_sink_factory{std::move(path)};
}

} // namespace sluice
