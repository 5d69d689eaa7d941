#include "sluice/checkpoint_record.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "sluice/durable_file.hpp"
#include "sluice/lmdb_environment.hpp"

namespace sluice {

namespace {

[[noreturn]] void fail(const std::string& path, const std::string& what) {
  throw state_error("checkpoint record " + path + ": " + what, path);
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
  replace_file_durably(path, text.str(), "checkpoint record");
}

} // namespace sluice
