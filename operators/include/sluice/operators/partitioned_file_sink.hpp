#pragma once

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

#include "sluice/context.hpp"
#include "sluice/error.hpp"
#include "sluice/interfaces.hpp"
#include "sluice/text.hpp"

namespace sluice::op {

/// A sink that writes one line per record into a directory tree, each record into the directory
/// `partition(record)` names under `dir` (a relative path such as "dt=2015-07-15/hm=10:05", as
/// Flink's FileSink with a bucket assigner and Hive-style partitions).
///
/// Instance i writes a partition's records of checkpoint period e (after checkpoint e - 1, up to
/// the barrier of checkpoint e) into `.part-<i>-<e>.inprogress` there, and renames it to
/// `part-<i>-<e>` once checkpoint e completes (or at the end of the input): readers of the tree
/// see only finished files, each written exactly once. An instance restored to checkpoint c
/// renames its in-progress files of periods up to c (checkpoint c completed, whether or not it
/// heard so) and deletes those of later periods, whose records it receives again; instance 0 does
/// the same for the files of instances that a restore with lower parallelism left without an
/// owner. A fresh start (no checkpoint to restore) deletes the instance's in-progress files.
/// The sink keeps no state of its own: file names say all it needs.
template <class T, class PartitionFn>
class partitioned_file_sink {
public:
  using input_type = T;
  using output_type = no_output;

  partitioned_file_sink(std::string dir, PartitionFn partition)
    : dir_(std::move(dir)), partition_(std::move(partition)) {}

  // Each instance opens its own files: copies carry the directory and the function only.
  partitioned_file_sink(const partitioned_file_sink& other)
    : dir_(other.dir_), partition_(other.partition_) {}
  partitioned_file_sink(partitioned_file_sink&&) noexcept = default;

  /// @throws failure (errc::io) naming the path when the tree cannot be read or a file renamed
  /// or removed.
  void open(context<no_output>& ctx) {
    const auto& info = ctx.info();
    index_ = info.index;
    auto restored = info.restore_checkpoint;
    period_ = restored.value_or(0) + 1;
    std::error_code ec;
    std::filesystem::create_directories(dir_, ec);
    if (ec)
      throw failure(errc::io, "cannot create output directory '" + dir_ + "': " + ec.message(),
                    dir_);
    for (auto& file : in_progress_files()) {
      bool mine = file.instance == index_ || (index_ == 0 && file.instance >= info.parallelism);
      if (!mine)
        continue;
      if (restored && file.period <= *restored)
        finish(file.path, file.instance, file.period);
      else
        remove(file.path);
    }
  }

  void on_batch(std::vector<record<T>>& records, context<no_output>&) {
    for (const auto& r : records) {
      auto& out = file_of(std::invoke(partition_, r.value));
      out << to_text(r.value) << '\n';
    }
  }

  /// The files of the period the barrier ends are complete: closed, finished once the
  /// checkpoint completes.
  void on_checkpoint(uint64_t id, context<no_output>&) {
    close_all();
    period_ = id + 1;
  }

  void on_checkpoint_complete(uint64_t id, context<no_output>&) {
    for (auto it = closed_.begin(); it != closed_.end() && it->first <= id;) {
      for (const auto& partition : it->second)
        finish(in_progress_path(partition, it->first), index_, it->first);
      it = closed_.erase(it);
    }
  }

  /// The end of the input follows the job's final checkpoint: nothing is received again.
  void on_end(context<no_output>& ctx) {
    close_all();
    on_checkpoint_complete(UINT64_MAX, ctx);
  }

private:
  struct in_progress_file {
    std::filesystem::path path;
    uint32_t instance = 0;
    uint64_t period = 0;
  };

  /// The in-progress files under the directory, with their instance and period.
  [[nodiscard]] std::vector<in_progress_file> in_progress_files() const {
    std::vector<in_progress_file> found;
    std::error_code ec;
    for (std::filesystem::recursive_directory_iterator it{dir_, ec}, end; !ec && it != end;
         it.increment(ec)) {
      auto name = it->path().filename().string();
      if (auto file = parse(name))
        found.push_back({it->path(), file->first, file->second});
    }
    if (ec)
      throw failure(errc::io, "cannot read output directory '" + dir_ + "': " + ec.message(), dir_);
    return found;
  }

  /// The instance and period of an in-progress file's name ".part-<i>-<e>.inprogress".
  static std::optional<std::pair<uint32_t, uint64_t>> parse(std::string_view name) {
    constexpr std::string_view prefix = ".part-", suffix = ".inprogress";
    if (!name.starts_with(prefix) || !name.ends_with(suffix))
      return std::nullopt;
    name = name.substr(prefix.size(), name.size() - prefix.size() - suffix.size());
    auto dash = name.find('-');
    if (dash == std::string_view::npos)
      return std::nullopt;
    uint32_t instance = 0;
    uint64_t period = 0;
    auto first = std::from_chars(name.data(), name.data() + dash, instance);
    auto second = std::from_chars(name.data() + dash + 1, name.data() + name.size(), period);
    if (first.ec != std::errc{} || first.ptr != name.data() + dash || second.ec != std::errc{}
        || second.ptr != name.data() + name.size())
      return std::nullopt;
    return std::pair{instance, period};
  }

  [[nodiscard]] std::filesystem::path in_progress_path(const std::string& partition,
                                                       uint64_t period) const {
    return std::filesystem::path{dir_} / partition
           / (".part-" + std::to_string(index_) + "-" + std::to_string(period) + ".inprogress");
  }

  /// @throws std::invalid_argument if `partition` is not a relative path that stays inside
  /// the directory.
  std::ofstream& file_of(const std::string& partition) {
    auto open = open_.find(partition);
    if (open != open_.end())
      return open->second;
    std::filesystem::path relative{partition};
    if (partition.empty() || relative.is_absolute()
        || std::find(relative.begin(), relative.end(), "..") != relative.end())
      throw std::invalid_argument("a partition is a relative path inside the output directory '"
                                  + dir_ + "', not '" + partition + "'");
    auto path = in_progress_path(partition, period_);
    std::error_code ec;
    std::filesystem::create_directories(path.parent_path(), ec);
    std::ofstream out{path, std::ios::binary | std::ios::trunc};
    if (ec || !out)
      throw failure(errc::io,
                    "cannot create output file '" + path.string() + "': " + std::strerror(errno),
                    path.string());
    return open_.emplace(partition, std::move(out)).first->second;
  }

  void close_all() {
    for (auto& [partition, out] : open_) {
      out.close();
      if (!out)
        throw failure(
          errc::io,
          "cannot write output file '" + in_progress_path(partition, period_).string() + "'",
          partition);
      closed_[period_].push_back(partition);
    }
    open_.clear();
  }

  /// Renames in-progress file `path` of `instance` and `period` to its finished name.
  static void finish(const std::filesystem::path& path, uint32_t instance, uint64_t period) {
    auto finished =
      path.parent_path() / ("part-" + std::to_string(instance) + "-" + std::to_string(period));
    std::error_code ec;
    std::filesystem::rename(path, finished, ec);
    if (ec)
      throw failure(errc::io, "cannot rename '" + path.string() + "': " + ec.message(),
                    path.string());
  }

  static void remove(const std::filesystem::path& path) {
    std::error_code ec;
    std::filesystem::remove(path, ec);
    if (ec)
      throw failure(errc::io, "cannot remove '" + path.string() + "': " + ec.message(),
                    path.string());
  }

  std::string dir_;
  PartitionFn partition_;
  uint32_t index_ = 0;
  /// The checkpoint period being written: the id of the next checkpoint.
  uint64_t period_ = 1;
  /// The files of the current period, by partition.
  std::map<std::string, std::ofstream> open_;
  /// The partitions of the closed files of each period not yet finished.
  std::map<uint64_t, std::vector<std::string>> closed_;
};

/// Makes a partitioned file sink for whatever record type the stream has.
template <class PartitionFn>
struct partitioned_file_sink_factory {
  std::string dir;
  PartitionFn partition;

  template <class T>
  partitioned_file_sink<T, PartitionFn> bind() const {
    static_assert(std::is_invocable_r_v<std::string, const PartitionFn&, const T&>,
                  "write_partitioned_files expects partition(const T&) -> std::string, a "
                  "relative directory");
    return {dir, partition};
  }
};

} // namespace sluice::op

namespace sluice {

/// A sink writing one line per record into the directory `partition(record)` names under `dir`
/// (see op::partitioned_file_sink): exactly once, each file visible once the checkpoint that
/// covers it completes.
template <class PartitionFn>
op::partitioned_file_sink_factory<PartitionFn> write_partitioned_files(std::string dir,
                                                                       PartitionFn partition) {
  return {std::move(dir), std::move(partition)};
}

} // namespace sluice
