#include "sluice/operators/text_file.hpp"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <system_error>

namespace sluice::op {

void text_file::open(source_context<std::string>& ctx) {
  std::error_code ec;
  auto size = std::filesystem::file_size(path_, ec);
  if (ec)
    throw std::runtime_error("cannot read text file '" + path_ + "': " + ec.message());
  in_.open(path_, std::ios::binary);
  if (!in_)
    throw std::runtime_error("cannot open text file '" + path_ + "': " + std::strerror(errno));
  const auto index = ctx.info().index;
  const auto parallelism = ctx.info().parallelism;
  position_ = size * index / parallelism;
  end_ = size * (index + 1) / parallelism;
  if (position_ == 0)
    return;
  // A line belongs to the range its first byte is in: skip the tail of a line that started in
  // the previous range.
  in_.seekg(static_cast<std::streamoff>(position_ - 1));
  if (in_.get() != '\n' && std::getline(in_, line_))
    position_ += line_.size() + 1;
}

void text_file::restore_position(uint64_t position) {
  position_ = position;
  in_.clear();
  in_.seekg(static_cast<std::streamoff>(position_));
  if (!in_)
    throw std::runtime_error("cannot seek to byte " + std::to_string(position_) + " of text file '"
                             + path_ + "'");
}

source_step text_file::produce(source_context<std::string>& ctx, size_t max_records) {
  for (size_t n = 0; n < max_records; ++n) {
    if (position_ >= end_)
      return source_step::done();
    if (!std::getline(in_, line_)) {
      if (in_.bad())
        throw std::runtime_error("cannot read text file '" + path_ + "'");
      return source_step::done();
    }
    position_ += line_.size() + 1;
    if (!line_.empty() && line_.back() == '\r')
      line_.pop_back();
    ctx.emit(std::move(line_), 0);
    line_ = {};
  }
  return source_step::more();
}

} // namespace sluice::op
