#pragma once

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <caf/meta/type_name.hpp>

#include "sluice/context.hpp"
#include "sluice/error.hpp"
#include "sluice/interfaces.hpp"
#include "sluice/text.hpp"

namespace sluice::op {

/// An output file and how much of it a checkpoint covers.
struct file_part {
  std::string path;
  uint64_t length = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, file_part& x) {
  return f(caf::meta::type_name("sluice.file_part"), x.path, x.length);
}

/// A sink that writes one line per record to a file. With one instance it writes `path`; with n
/// instances instance i writes `path.part-i`, so instances never share a file.
///
/// Exactly once with checkpoints: at each checkpoint it flushes its file and records the file's
/// length as operator state. An instance restored to a checkpoint cuts its file back to the
/// length recorded then, so what it wrote after the checkpoint is written again exactly once;
/// a file the checkpoint does not cover is started afresh.
///
/// Rescaling: the recorded files go to every new instance (union list state). Each takes its
/// own file; instance 0 also takes the files no new instance writes (those of instances that
/// are gone, or of another parallelism), cuts them back and keeps them in its checkpoints, so
/// their committed lines stay part of the output.
template <class T>
class file_sink {
public:
  using input_type = T;
  using output_type = no_output;

  explicit file_sink(std::string path) : path_(std::move(path)) {}

  // Each instance opens its own file: copies carry the path only.
  file_sink(const file_sink& other) : path_(other.path_) {}
  file_sink(file_sink&&) noexcept = default;

  /// @throws std::runtime_error naming the path when a file cannot be created or cut back.
  void open(context<no_output>& ctx) {
    const auto& info = ctx.info();
    own_path_ = path_of(info.index, info.parallelism);
    files_.emplace(ctx.state().template union_list<file_part>(files_state));
    std::optional<uint64_t> own_length;
    for (const auto& part : files_->get()) {
      if (part.path == own_path_) {
        own_length = part.length;
      } else if (info.index == 0 && !written_by_an_instance(part.path, info.parallelism)) {
        cut(part);
        kept_.push_back(part);
      }
    }
    if (own_length) {
      cut({own_path_, *own_length});
      out_.open(own_path_, std::ios::binary | std::ios::in | std::ios::out);
      out_.seekp(0, std::ios::end);
    } else {
      out_.open(own_path_, std::ios::binary | std::ios::trunc);
    }
    if (!out_)
      throw failure(errc::io,
                    "cannot create output file '" + own_path_ + "': " + std::strerror(errno),
                    own_path_);
  }

  void on_checkpoint(uint64_t, context<no_output>&) {
    out_.flush();
    check();
    auto parts = kept_;
    parts.push_back({own_path_, static_cast<uint64_t>(out_.tellp())});
    files_->update(parts);
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
  /// The file instance `index` of `parallelism` writes.
  [[nodiscard]] std::string path_of(uint32_t index, uint32_t parallelism) const {
    return parallelism > 1 ? path_ + ".part-" + std::to_string(index) : path_;
  }

  [[nodiscard]] bool written_by_an_instance(const std::string& path, uint32_t parallelism) const {
    for (uint32_t i = 0; i < parallelism; ++i)
      if (path_of(i, parallelism) == path)
        return true;
    return false;
  }

  static void cut(const file_part& part) {
    std::error_code ec;
    std::filesystem::resize_file(part.path, part.length, ec);
    if (ec)
      throw failure(errc::io,
                    "cannot cut output file '" + part.path + "' back to "
                      + std::to_string(part.length) + " bytes: " + ec.message(),
                    part.path);
  }

  void check() {
    if (!out_)
      throw failure(errc::io, "cannot write output file '" + own_path_ + "'", own_path_);
  }

  static constexpr const char* files_state = "file parts";

  std::string path_;
  std::string own_path_;
  std::ofstream out_;
  std::optional<operator_list_state<file_part>> files_;
  /// Files of no current instance that this one keeps in its checkpoints.
  std::vector<file_part> kept_;
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
