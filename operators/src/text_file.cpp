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
  announced_ = false;
  seek();
}

void text_file::seek() {
  if (ranges_.empty())
    return;
  auto position = ranges_.front().position;
  begin_ = end_ = 0;
  in_.clear();
  in_.seekg(static_cast<std::streamoff>(position));
  if (!in_)
    throw failure(
      errc::io, "cannot seek to byte " + std::to_string(position) + " of text file '" + path_ + "'",
      path_);
}

bool text_file::read_line(std::string& line) {
  constexpr size_t chunk_size = size_t{1} << 16;
  if (chunk_.empty())
    chunk_.resize(chunk_size);
  line.clear();
  for (;;) {
    const char* from = chunk_.data() + begin_;
    if (const auto* end = static_cast<const char*>(std::memchr(from, '\n', end_ - begin_))) {
      line.append(from, end);
      begin_ = static_cast<size_t>(end - chunk_.data()) + 1;
      return true;
    }
    line.append(from, end_ - begin_); // a line that goes on in the next chunk
    in_.read(chunk_.data(), static_cast<std::streamsize>(chunk_.size()));
    begin_ = 0;
    end_ = static_cast<size_t>(in_.gcount());
    if (in_.bad())
      throw failure(errc::io, "cannot read text file '" + path_ + "'", path_);
    if (end_ == 0)
      return !line.empty(); // the last line may lack its line end
  }
}

source_step text_file::produce(source_context<std::string>& ctx, size_t max_records) {
  if (!announced_) {
    for (const auto& range : ranges_)
      ctx.begin_split(range.end); // a range's end names it: its position moves
    announced_ = true;
  }
  for (size_t n = 0; n < max_records; ++n) {
    while (!ranges_.empty() && ranges_.front().position >= ranges_.front().end) {
      ctx.end_split(ranges_.front().end);
      ranges_.erase(ranges_.begin());
      seek();
    }
    if (ranges_.empty())
      return source_step::done();
    auto& range = ranges_.front();
    ctx.begin_split(range.end);
    if (!read_line(line_)) {
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
