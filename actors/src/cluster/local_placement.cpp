#include "local_placement.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "sluice/durable_file.hpp"
#include "sluice/error.hpp"
#include "sluice/lmdb_environment.hpp"

namespace sluice::cluster {

namespace {

std::string numbers(const std::vector<uint32_t>& instances) {
  std::string text;
  for (auto n : instances)
    text += (text.empty() ? "" : " ") + std::to_string(n);
  return text.empty() ? "none" : text;
}

} // namespace

std::optional<local_placement> local_placement::load(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec))
    return std::nullopt;
  std::ifstream in{path};
  std::string leader_word, instances_word, instances_line;
  local_placement placement;
  if (!(in >> leader_word >> placement.leader) || leader_word != "leader" || !(in >> instances_word)
      || instances_word != "instances")
    throw state_error("cannot parse the placement record " + path, path);
  std::getline(in, instances_line);
  std::istringstream numbers_in{instances_line};
  for (uint32_t n = 0; numbers_in >> n;)
    placement.instances.push_back(n);
  return placement;
}

void local_placement::save(const std::string& path) const {
  std::string text = "leader " + leader + "\ninstances";
  for (auto n : instances)
    text += " " + std::to_string(n);
  replace_file_durably(path, text + "\n", "cannot write the placement record");
}

std::optional<std::string> placement_conflict(const std::optional<local_placement>& before,
                                              const local_placement& now, uint64_t restore_to) {
  if (!before) {
    if (restore_to == 0)
      return std::nullopt;
    return "the job restores checkpoint " + std::to_string(restore_to)
           + ", but this node has no state of the job";
  }
  if (before->leader != now.leader)
    return "the job's checkpoint record is on node '" + before->leader
           + "', which led it, but node '" + now.leader + "' leads it now";
  if (before->instances != now.instances)
    return "this node ran instances " + numbers(before->instances) + " and keeps their state, but is "
           "to run instances " + numbers(now.instances);
  return std::nullopt;
}

} // namespace sluice::cluster
