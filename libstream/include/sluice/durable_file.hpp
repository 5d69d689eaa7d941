#pragma once

#include <string>

namespace sluice {

/// Replaces the file at `path` with `text`, atomically and durably: writes `path.new`, flushes
/// it to disk, renames it over `path` and flushes the directory, creating the directory if
/// needed.
/// @throws state_error "<what> <path>: <reason>" on failure.
void replace_file_durably(const std::string& path, const std::string& text,
                          const std::string& what);

/// Flushes the entries of directory `path` (creations, renames) to disk; best effort.
void sync_directory(const std::string& path);

} // namespace sluice
