#include "sluice/state_view.hpp"

#include <cstdlib>
#include <filesystem>

#include <cxxabi.h>

#include "sluice/state.hpp"

namespace sluice {

namespace {

/// A type record as C++ spells the type.
std::string demangled(const std::string& type) {
  int status = 0;
  std::unique_ptr<char, void (*)(void*)> name{
    abi::__cxa_demangle(type.c_str(), nullptr, nullptr, &status), std::free};
  return status == 0 ? std::string{name.get()} : type;
}

std::string directory_of(const runtime_config& config, const std::string& pipeline,
                         const std::string& operator_name, uint32_t index) {
  if (config.state != state_backend::lmdb)
    throw state_error("a view of the state of operator '" + operator_name
                      + "' needs the LMDB state backend");
  if (config.state_dir.empty())
    throw state_error("a view of the state of operator '" + operator_name
                      + "' needs runtime_config::state_dir (the temporary one is private)");
  return instance_state_options(config, pipeline, operator_name, index).directory;
}

} // namespace

state_view::state_view(const std::string& directory, uint32_t max_parallelism)
  : max_parallelism_(max_parallelism) {
  if (!std::filesystem::exists(std::filesystem::path{directory} / "data.mdb"))
    throw state_error("keyed state in " + directory + ": there is none");
  env_ = lmdb_environment::shared(directory);
}

state_view::state_view(const runtime_config& config, const std::string& pipeline,
                       const std::string& operator_name, uint32_t index)
  : state_view(directory_of(config, pipeline, operator_name, index), config.max_parallelism) {}

std::map<std::string, std::string> state_view::types() const {
  std::map<std::string, std::string> result;
  auto meta = env_->open(std::string{lmdb_layout::meta_database});
  env_->read([&](const lmdb_environment::transaction& txn) {
    txn.scan(meta, lmdb_layout::type_prefix, [&](std::string_view key, std::string_view type) {
      result.emplace(key.substr(lmdb_layout::type_prefix.size()), type);
      return true;
    });
  });
  return result;
}

void state_view::check_type(const std::string& table, const std::string& type) const {
  auto all = types();
  auto i = all.find(table);
  if (i == all.end())
    throw state_type_error("no keyed state '" + table + "' in " + env_->path());
  if (i->second != type)
    throw state_type_error("keyed state '" + table + "' in " + env_->path()
                           + " was written with other key or value types: " + demangled(i->second));
}

std::vector<state_view::table_info> state_view::tables() const {
  std::vector<table_info> result;
  for (const auto& [name, type] : types()) {
    auto completed = env_->open(name);
    auto pending = env_->open(lmdb_layout::pending_database(name));
    table_info info{name, demangled(type), 0, 0};
    env_->read([&](const lmdb_environment::transaction& txn) {
      auto entries = static_cast<int64_t>(txn.entries(completed));
      // The newest pending change of each key adds a key the completed entries lack, or
      // removes one they have.
      std::string last;
      txn.scan(pending, {}, [&](std::string_view pk, std::string_view value) {
        auto stored = lmdb_layout::stored_of_pending(pk);
        if (stored == last)
          return true;
        last = stored;
        bool existed = txn.get(completed, stored).has_value();
        if (value[0] == 1 && !existed)
          ++entries;
        else if (value[0] == 0 && existed)
          --entries;
        return true;
      });
      info.entries = static_cast<size_t>(entries);
      info.bytes = txn.bytes(completed) + txn.bytes(pending);
    });
    result.push_back(std::move(info));
  }
  return result;
}

std::optional<std::string> state_view::find(const std::string& table,
                                            const std::string& stored) const {
  auto completed = env_->open(table);
  auto pending = env_->open(lmdb_layout::pending_database(table));
  std::optional<std::string> result;
  env_->read([&](const lmdb_environment::transaction& txn) {
    bool changed = false;
    txn.scan(pending, stored, [&](std::string_view, std::string_view value) {
      changed = true; // the newest change comes first
      if (value[0] == 1)
        result.emplace(value.substr(1));
      return false;
    });
    if (!changed)
      if (auto value = txn.get(completed, stored))
        result.emplace(*value);
  });
  return result;
}

void state_view::visit(const std::string& table, size_t limit,
                       const std::function<void(std::string_view, std::string_view)>& fn) const {
  auto completed = env_->open(table);
  auto pending = env_->open(lmdb_layout::pending_database(table));
  env_->read([&](const lmdb_environment::transaction& txn) {
    // The newest pending change of each key (a value, or none for an erased key).
    std::map<std::string, std::optional<std::string>, std::less<>> changes;
    txn.scan(pending, {}, [&](std::string_view pk, std::string_view value) {
      auto stored = std::string{lmdb_layout::stored_of_pending(pk)};
      if (!changes.contains(stored))
        changes.emplace(std::move(stored),
                        value[0] == 1 ? std::optional<std::string>{value.substr(1)} : std::nullopt);
      return true;
    });
    size_t seen = 0;
    auto change = changes.begin();
    auto emit = [&](std::string_view stored, std::string_view value) {
      fn(stored, value);
      return ++seen < limit;
    };
    // Only the changes before `stored` (keys the completed entries lack).
    auto emit_changes_before = [&](std::string_view stored) {
      for (; change != changes.end() && (stored.empty() || change->first < stored); ++change)
        if (change->second && !emit(change->first, *change->second))
          return false;
      return true;
    };
    if (limit == 0)
      return;
    bool more = true;
    txn.scan(completed, {}, [&](std::string_view stored, std::string_view value) {
      if (!(more = emit_changes_before(stored)))
        return false;
      if (change != changes.end() && change->first == stored) {
        auto newest = change++;
        if (newest->second)
          return more = emit(stored, *newest->second);
        return true;
      }
      return more = emit(stored, value);
    });
    if (more)
      emit_changes_before({});
  });
}

} // namespace sluice
