#include "sluice/state.hpp"

#include <cctype>
#include <filesystem>
#include <string_view>

namespace sluice {

namespace {

/// Meta entries: the last checkpoint taken and the last one completed.
constexpr std::string_view taken_key = "checkpoint.taken";
constexpr std::string_view completed_key = "checkpoint.completed";

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

std::string pipeline_state_directory(const runtime_config& config, const std::string& pipeline) {
  return (std::filesystem::path{config.state_dir} / path_component(pipeline)).string();
}

state_options instance_state_options(const runtime_config& config, const std::string& pipeline,
                                     const std::string& operator_name, uint32_t index,
                                     std::optional<uint64_t> restore_checkpoint) {
  state_options options;
  options.backend = config.state;
  options.max_parallelism = config.max_parallelism;
  options.overlay_entries = config.state_overlay_entries;
  options.restore_checkpoint = restore_checkpoint;
  if (config.state == state_backend::lmdb)
    options.directory = (std::filesystem::path{pipeline_state_directory(config, pipeline)}
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
  env.write([&](lmdb_environment::transaction& txn) {
    if (auto stored = txn.get(meta_, key)) {
      if (*stored != type)
        throw state_type_error("keyed state '" + name + "' in " + env.path()
                               + " was written with other key or value types");
      return;
    }
    txn.put(meta_, key, type);
  });
}

uint64_t state_store::restore_point() {
  if (options_.restore_checkpoint)
    return *options_.restore_checkpoint;
  return completed_checkpoint();
}

void state_store::checkpoint(uint64_t id) {
  if (!env_)
    return; // no LMDB table was ever opened: nothing to keep
  env_->write([&](lmdb_environment::transaction& txn) {
    for (auto* t : lmdb_tables_)
      t->write_checkpoint(txn, id);
    txn.put(meta_, taken_key, encode_id(id));
  });
  for (auto* t : lmdb_tables_)
    t->checkpoint_written();
}

void state_store::complete(uint64_t id) {
  if (!env_)
    return;
  env_->write([&](lmdb_environment::transaction& txn) {
    for (auto* t : lmdb_tables_)
      t->complete(txn, id);
    txn.put(meta_, completed_key, encode_id(id));
  });
}

uint64_t state_store::completed_checkpoint() {
  if (options_.backend != state_backend::lmdb)
    return 0;
  uint64_t id = 0;
  environment().read([&](const lmdb_environment::transaction& txn) {
    if (auto stored = txn.get(meta_, completed_key))
      id = decode_id(*stored);
  });
  return id;
}

} // namespace sluice
