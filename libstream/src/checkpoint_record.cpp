#include "sluice/checkpoint_record.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "sluice/lmdb_environment.hpp"

namespace sluice {

namespace {

[[noreturn]] void fail(const std::string& path, const std::string& what) {
  throw state_error("checkpoint record " + path + ": " + what);
}

/// Writes `text` to `path` and flushes it to disk.
void write_durably(const std::string& path, const std::string& text) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0)
    fail(path, std::string{"cannot create: "} + std::strerror(errno));
  size_t written = 0;
  while (written < text.size()) {
    auto n = ::write(fd, text.data() + written, text.size() - written);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      int err = errno;
      ::close(fd);
      fail(path, std::string{"cannot write: "} + std::strerror(err));
    }
    written += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) {
    int err = errno;
    ::close(fd);
    fail(path, std::string{"cannot flush to disk: "} + std::strerror(err));
  }
  ::close(fd);
}

} // namespace

checkpoint_record checkpoint_record::load(const std::string& path) {
  checkpoint_record record;
  std::error_code ec;
  if (!std::filesystem::exists(path, ec))
    return record;
  std::ifstream in{path};
  if (!in)
    fail(path, std::string{"cannot read: "} + std::strerror(errno));
  std::string key;
  uint64_t value = 0;
  bool seen_triggered = false;
  bool seen_completed = false;
  while (in >> key >> value) {
    if (key == "triggered") {
      record.triggered = value;
      seen_triggered = true;
    } else if (key == "completed") {
      record.completed = value;
      seen_completed = true;
    } else {
      fail(path, "unknown entry '" + key + "'");
    }
  }
  if (!in.eof() || !seen_triggered || !seen_completed || record.completed > record.triggered)
    fail(path, "not a checkpoint record (corrupt?)");
  return record;
}

void checkpoint_record::save(const std::string& path) const {
  std::ostringstream text;
  text << "triggered " << triggered << "\ncompleted " << completed << "\n";
  auto temporary = path + ".new";
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path{path}.parent_path(), ec);
  if (ec)
    fail(path, "cannot create its directory: " + ec.message());
  write_durably(temporary, text.str());
  if (std::rename(temporary.c_str(), path.c_str()) != 0)
    fail(path, std::string{"cannot replace: "} + std::strerror(errno));
  // The rename itself is durable once the directory is flushed.
  int dir = ::open(std::filesystem::path{path}.parent_path().c_str(), O_RDONLY | O_DIRECTORY);
  if (dir >= 0) {
    ::fsync(dir);
    ::close(dir);
  }
}

} // namespace sluice
