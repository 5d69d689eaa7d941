#include "placement.hpp"

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include <xxhash.h>

#include "sluice/detail/job_plan.hpp"
#include "sluice/durable_file.hpp"
#include "sluice/error.hpp"
#include "sluice/lmdb_environment.hpp"
#include "sluice/state.hpp"
#include "sluice/state_layout.hpp"

namespace sluice::cluster {

namespace {

std::string numbers(const std::vector<uint32_t>& instances) {
  std::string text;
  for (auto n : instances)
    text += (text.empty() ? "" : " ") + std::to_string(n);
  return text.empty() ? "none" : text;
}

} // namespace

std::vector<std::string> place_slots(int32_t slot_count, const std::set<std::string>& nodes) {
  auto share = (static_cast<size_t>(slot_count) + nodes.size() - 1) / nodes.size();
  std::map<std::string, size_t> taken;
  std::vector<std::string> placement;
  for (int32_t slot = 0; slot < slot_count; ++slot) {
    const std::string* best = nullptr;
    uint64_t best_weight = 0;
    for (const auto& node : nodes) {
      auto weight = XXH64(node.data(), node.size(), static_cast<uint64_t>(slot));
      if (taken[node] < share && (!best || weight > best_weight)) {
        best = &node;
        best_weight = weight;
      }
    }
    ++taken[*best];
    placement.push_back(*best);
  }
  return placement;
}

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

caf::error claim_placement(const detail::graph& g, const std::string& pipeline,
                           const runtime_config& config, const std::string& node,
                           const std::string& leader, const std::vector<bool>& placed_here,
                           uint64_t restore_to) {
  if (config.state != state_backend::lmdb)
    return {};
  auto dir = pipeline_state_directory(config, pipeline);
  auto refused = [&](const std::string& why, const std::string& path) {
    return make_error(errc::state,
                      "node '" + node + "' cannot run its part of pipeline '" + pipeline + "': "
                        + why
                        + "; moving state between nodes is not built yet: restart the nodes "
                          "with their names within the session timeout, or clear their state "
                          "directories to start afresh",
                      path);
  };
  local_placement now{leader, {}};
  for (uint32_t n = 0; n < placed_here.size(); ++n)
    if (placed_here[n])
      now.instances.push_back(n);
  try {
    if (auto stored = graph_manifest::load(dir + "/graph")) {
      auto current = detail::manifest_of(g, config.max_parallelism);
      for (const auto& op : current.operators)
        for (const auto& old : stored->operators)
          if (op.name == old.name && op.parallelism != old.parallelism)
            return refused("operator '" + op.name + "' ran at parallelism "
                             + std::to_string(old.parallelism) + ", now "
                             + std::to_string(op.parallelism)
                             + " (rescaling on a cluster is not built yet)",
                           dir + "/graph");
    }
    auto path = dir + "/placement";
    auto before = local_placement::load(path);
    if (auto conflict = placement_conflict(before, now, restore_to))
      return refused(*conflict, path);
    if (before != now)
      now.save(path);
  } catch (const failure& e) {
    return make_error(e.code(), "node '" + node + "': " + e.what(), e.subject());
  }
  return {};
}

} // namespace sluice::cluster
