#include "sluice/state.hpp"

#include <cctype>
#include <filesystem>
#include <string_view>

namespace sluice {

namespace {

constexpr std::string_view checkpoint_key = "checkpoint";

std::string encode_id(uint64_t id) {
  std::string bytes(8, '\0');
  for (int i = 7; i >= 0; --i, id >>= 8)
    bytes[static_cast<size_t>(i)] = static_cast<char>(id & 0xff);
  return bytes;
}

uint64_t decode_id(std::string_view bytes) {
  uint64_t id = 0;
  for (auto c : bytes)
    id = (id << 8) | static_cast<unsigned char>(c);
  return id;
}

/// `name` as one safe path component.
std::string path_component(const std::string& name) {
  std::string out = name;
  for (auto& c : out)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.'
        && c != '#')
      c = '_';
  if (out.empty() || out == "." || out == "..")
    out = "_" + out;
  return out;
}

} // namespace

state_options instance_state_options(const runtime_config& config, const std::string& pipeline,
                                     const std::string& operator_name, uint32_t index) {
  state_options options;
  options.backend = config.state;
  options.max_parallelism = config.max_parallelism;
  options.overlay_entries = config.state_overlay_entries;
  if (config.state == state_backend::lmdb)
    options.directory = (std::filesystem::path{config.state_dir} / path_component(pipeline)
                         / (path_component(operator_name) + "-" + std::to_string(index)))
                          .string();
  return options;
}

state_store::state_store(state_options options) : options_(std::move(options)) {}

state_store::~state_store() = default;

lmdb_environment& state_store::environment() {
  if (!env_) {
    env_ = std::make_unique<lmdb_environment>(options_.directory);
    meta_ = env_->open("~meta");
  }
  return *env_;
}

void state_store::check_stored_type(const std::string& name, const std::string& type) {
  auto& env = environment();
  auto key = "type:" + name;
  if (auto stored = env.get(meta_, key)) {
    if (*stored != type)
      throw state_type_error("keyed state '" + name + "' in " + env.path()
                             + " was written with other key or value types");
    return;
  }
  env.commit({}, {{meta_, key, type}});
}

void state_store::checkpoint(uint64_t id) {
  if (options_.backend != state_backend::lmdb)
    return;
  std::vector<std::pair<lmdb_environment::database, lmdb_environment::database>> merges;
  std::vector<lmdb_environment::change> changes;
  for (auto* t : lmdb_tables_)
    t->prepare_checkpoint(merges, changes);
  changes.push_back({meta_, std::string{checkpoint_key}, encode_id(id)});
  environment().commit(merges, changes);
  for (auto* t : lmdb_tables_)
    t->checkpoint_committed();
}

uint64_t state_store::last_checkpoint() {
  if (options_.backend != state_backend::lmdb)
    return 0;
  auto stored = environment().get(meta_, checkpoint_key);
  return stored ? decode_id(*stored) : 0;
}

} // namespace sluice
