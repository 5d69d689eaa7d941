#include "sluice/operators/text_file.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <system_error>

#include "sluice/error.hpp"

namespace sluice::op {

void text_file::open(source_context<std::string>& ctx) {
  std::error_code ec;
  auto size = std::filesystem::file_size(path_, ec);
  if (ec)
    throw failure(errc::io, "cannot read text file '" + path_ + "': " + ec.message(), path_);
  in_.open(path_, std::ios::binary);
  if (!in_)
    throw failure(errc::io, "cannot open text file '" + path_ + "': " + std::strerror(errno),
                  path_);
  const auto index = ctx.info().index;
  const auto parallelism = ctx.info().parallelism;
  byte_range range{size * index / parallelism, size * (index + 1) / parallelism};
  if (range.position > 0) {
    // A line belongs to the range its first byte is in: skip the tail of a line that started
    // in the previous range.
    in_.seekg(static_cast<std::streamoff>(range.position - 1));
    if (in_.get() != '\n' && std::getline(in_, line_))
      range.position += line_.size() + 1;
  }
  ranges_ = {range};
  seek();
}

void text_file::restore_splits(std::vector<byte_range> ranges) {
  std::sort(ranges.begin(), ranges.end(),
            [](const byte_range& a, const byte_range& b) { return a.position < b.position; });
  ranges_ = std::move(ranges);
  seek();
}

void text_file::seek() {
  if (ranges_.empty())
    return;
  auto position = ranges_.front().position;
  in_.clear();
  in_.seekg(static_cast<std::streamoff>(position));
  if (!in_)
    throw failure(
      errc::io, "cannot seek to byte " + std::to_string(position) + " of text file '" + path_ + "'",
      path_);
}

source_step text_file::produce(source_context<std::string>& ctx, size_t max_records) {
  for (size_t n = 0; n < max_records; ++n) {
    while (!ranges_.empty() && ranges_.front().position >= ranges_.front().end) {
      ranges_.erase(ranges_.begin());
      seek();
    }
    if (ranges_.empty())
      return source_step::done();
    auto& range = ranges_.front();
    if (!std::getline(in_, line_)) {
      if (in_.bad())
        throw failure(errc::io, "cannot read text file '" + path_ + "'", path_);
      // The file ends inside the range (it was cut short since the range was made).
      range.position = range.end;
      continue;
    }
    range.position += line_.size() + 1;
    if (!line_.empty() && line_.back() == '\r')
      line_.pop_back();
    ctx.emit(std::move(line_), 0);
    line_ = {};
  }
  return source_step::more();
}

} // namespace sluice::op
