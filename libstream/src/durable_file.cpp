#include "sluice/durable_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "sluice/lmdb_environment.hpp"

namespace sluice {

namespace {

/// Writes `text` to a new file `path` and flushes it to disk; returns the error text if not.
std::string write_and_flush(const std::string& path, const std::string& text) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0)
    return std::string{"cannot create: "} + std::strerror(errno);
  size_t written = 0;
  while (written < text.size()) {
    auto n = ::write(fd, text.data() + written, text.size() - written);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      int err = errno;
      ::close(fd);
      return std::string{"cannot write: "} + std::strerror(err);
    }
    written += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) {
    int err = errno;
    ::close(fd);
    return std::string{"cannot flush to disk: "} + std::strerror(err);
  }
  ::close(fd);
  return {};
}

} // namespace

void sync_directory(const std::string& path) {
  int dir = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir >= 0) {
    ::fsync(dir);
    ::close(dir);
  }
}

void replace_file_durably(const std::string& path, const std::string& text,
                          const std::string& what) {
  auto fail = [&](const std::string& reason) {
    throw state_error(what + " " + path + ": " + reason, path);
  };
  auto directory = std::filesystem::path{path}.parent_path();
  std::error_code ec;
  std::filesystem::create_directories(directory, ec);
  if (ec)
    fail("cannot create its directory: " + ec.message());
  auto temporary = path + ".new";
  if (auto error = write_and_flush(temporary, text); !error.empty())
    fail(error);
  if (std::rename(temporary.c_str(), path.c_str()) != 0)
    fail(std::string{"cannot replace: "} + std::strerror(errno));
  sync_directory(directory.string());
}

} // namespace sluice
