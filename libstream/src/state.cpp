#include "sluice/state.hpp"

#include <filesystem>

#include "sluice/state_layout.hpp"

namespace sluice {

std::string pipeline_state_directory(const runtime_config& config, const std::string& pipeline) {
  return (std::filesystem::path{config.state_dir} / safe_path_component(pipeline)).string();
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
                         / instance_directory_name(operator_name, index))
                          .string();
  return options;
}

state_store::state_store(state_options options) : options_(std::move(options)) {}

state_store::~state_store() = default;

lmdb_environment& state_store::environment() {
  if (!env_) {
    env_ = lmdb_environment::shared(options_.directory);
    meta_ = env_->open(std::string{lmdb_layout::meta_database});
  }
  return *env_;
}

void state_store::check_stored_type(const std::string& name, const std::string& type) {
  auto& env = environment();
  auto key = std::string{lmdb_layout::type_prefix} + name;
  env.write([&](lmdb_environment::transaction& txn) {
    if (auto stored = txn.get(meta_, key)) {
      if (*stored != type)
        throw state_type_error("keyed state '" + name + "' in " + env.path()
                                 + " was written with other key or value types",
                               name);
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

uint64_t state_store::checkpoint(uint64_t id) {
  for (auto& prepare : before_checkpoint_)
    prepare();
  if (!env_)
    return 0; // no LMDB table was ever opened: nothing to keep
  uint64_t bytes = 0;
  env_->write([&](lmdb_environment::transaction& txn) {
    bytes = 0; // a write that grows the map runs again
    for (auto* t : lmdb_tables_)
      bytes += t->write_checkpoint(txn, id);
    txn.put(meta_, lmdb_layout::taken_key, lmdb_layout::encode_id(id));
  });
  for (auto* t : lmdb_tables_)
    t->checkpoint_written();
  return bytes;
}

void state_store::complete(uint64_t id) {
  if (!env_)
    return;
  env_->write([&](lmdb_environment::transaction& txn) {
    for (auto* t : lmdb_tables_)
      t->complete(txn, id);
    txn.put(meta_, lmdb_layout::completed_key, lmdb_layout::encode_id(id));
  });
}

void state_store::release_memory() {
  for (auto& [name, e] : tables_)
    e.table->release_memory();
}

uint64_t state_store::completed_checkpoint() {
  if (options_.backend != state_backend::lmdb)
    return 0;
  uint64_t id = 0;
  environment().read([&](const lmdb_environment::transaction& txn) {
    if (auto stored = txn.get(meta_, lmdb_layout::completed_key))
      id = lmdb_layout::decode_id(*stored);
  });
  return id;
}

} // namespace sluice
