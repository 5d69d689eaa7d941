#include "sluice/state_layout.hpp"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <system_error>
#include <tuple>

#include "sluice/durable_file.hpp"
#include "sluice/key_group.hpp"
#include "sluice/lmdb_environment.hpp"
#include "sluice/lmdb_layout.hpp"
#include "sluice/state_codec.hpp"

namespace sluice {

namespace fs = std::filesystem;

namespace {

constexpr std::string_view manifest_header = "sluice-graph 1";

/// Names inside a pipeline's state directory.
constexpr const char* manifest_file = "graph";
constexpr const char* rescale_dir = ".rescale";     ///< new instance directories, built aside
constexpr const char* retired_dir = ".retired";     ///< old ones, moved out of the way
constexpr const char* ready_marker = "ready";       ///< the new directories are complete
constexpr const char* retired_marker = "retired";   ///< every old directory is retired
constexpr const char* operators_file = "operators"; ///< the operators being moved

[[noreturn]] void fail(const std::string& path, const std::string& what) {
  throw state_error("state directory " + path + ": " + what, path);
}

/// Whether `file` is the directory name of an instance of the operator whose safe name is `op`.
bool is_instance_of(const std::string& file, const std::string& op) {
  if (file.size() <= op.size() + 1 || !file.starts_with(op) || file[op.size()] != '-')
    return false;
  return std::all_of(file.begin() + static_cast<std::ptrdiff_t>(op.size()) + 1, file.end(),
                     [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
}

void rename_or_fail(const fs::path& from, const fs::path& to) {
  std::error_code ec;
  fs::rename(from, to, ec);
  if (ec)
    fail(from.string(), "cannot move it to " + to.string() + ": " + ec.message());
}

/// An old instance's environment, restored to the checkpoint its state is moved from.
struct old_instance {
  std::shared_ptr<lmdb_environment> env;
  /// Table name to type record, and to the database of its completed entries.
  std::map<std::string, std::string> types;
  std::map<std::string, lmdb_environment::database> completed;
  uint64_t checkpoint = 0;
};

old_instance open_old_instance(const fs::path& dir, std::optional<uint64_t> checkpoint) {
  old_instance old;
  old.env = lmdb_environment::shared(dir.string());
  auto meta = old.env->open(std::string{lmdb_layout::meta_database});
  old.env->read([&](const lmdb_environment::transaction& txn) {
    txn.scan(meta, lmdb_layout::type_prefix, [&](std::string_view key, std::string_view type) {
      old.types.emplace(key.substr(lmdb_layout::type_prefix.size()), type);
      return true;
    });
    if (auto stored = txn.get(meta, lmdb_layout::completed_key))
      old.checkpoint = lmdb_layout::decode_id(*stored);
  });
  if (checkpoint)
    old.checkpoint = *checkpoint;
  // Restore each table to the checkpoint, as the instance would when it opened the table.
  struct layers {
    lmdb_environment::database completed, spill, pending;
  };
  std::vector<layers> tables;
  for (const auto& [name, type] : old.types) {
    tables.push_back({old.env->open(name), old.env->open(lmdb_layout::spill_database(name)),
                      old.env->open(lmdb_layout::pending_database(name))});
    old.completed.emplace(name, tables.back().completed);
  }
  old.env->write([&](lmdb_environment::transaction& txn) {
    for (const auto& t : tables) {
      txn.clear(t.spill);
      lmdb_layout::apply_pending(txn, t.completed, t.pending, old.checkpoint);
      txn.clear(t.pending);
    }
    txn.put(meta, lmdb_layout::completed_key, lmdb_layout::encode_id(old.checkpoint));
  });
  return old;
}

/// The entries of operator state table `name` over all old instances, in instance order, then
/// list order.
std::vector<std::string> operator_state_values(std::vector<old_instance>& olds,
                                               const std::string& name) {
  std::vector<std::string> values;
  for (auto& old : olds) {
    auto db = old.completed.find(name);
    if (db == old.completed.end())
      continue;
    std::vector<std::pair<uint32_t, std::string>> entries;
    old.env->read([&](const lmdb_environment::transaction& txn) {
      txn.scan(db->second, {}, [&](std::string_view key, std::string_view value) {
        auto index = lmdb_layout::encoded_key_of_stored(key);
        entries.emplace_back(decode_state<uint32_t>(index.data(), index.size()), value);
        return true;
      });
    });
    std::sort(entries.begin(), entries.end());
    for (auto& [index, value] : entries)
      values.push_back(std::move(value));
  }
  return values;
}

/// Moves the state of one operator from `old_parallelism` instances under `dir` to
/// `new_parallelism` instances under `build`.
void move_operator_state(const fs::path& dir, const fs::path& build, const std::string& op,
                         uint32_t old_parallelism, uint32_t new_parallelism,
                         uint32_t max_parallelism, std::optional<uint64_t> checkpoint) {
  std::vector<old_instance> olds;
  std::map<std::string, std::string> types;
  for (uint32_t i = 0; i < old_parallelism; ++i) {
    auto path = dir / instance_directory_name(op, i);
    if (!fs::exists(path))
      continue;
    olds.push_back(open_old_instance(path, checkpoint));
    types.insert(olds.back().types.begin(), olds.back().types.end());
  }
  if (olds.empty())
    return;
  uint64_t restored = 0;
  for (const auto& old : olds)
    restored = std::max(restored, old.checkpoint);

  // Operator state, read once: the entries of all old instances per table.
  std::map<std::string, std::vector<std::string>> operator_state;
  for (const auto& [name, type] : types)
    if (name.starts_with(lmdb_layout::operator_state_prefix))
      operator_state.emplace(name, operator_state_values(olds, name));

  for (uint32_t j = 0; j < new_parallelism; ++j) {
    lmdb_environment env{(build / instance_directory_name(op, j)).string()};
    auto meta = env.open(std::string{lmdb_layout::meta_database});
    for (const auto& [name, type] : types) {
      auto db = env.open(name);
      env.open(lmdb_layout::spill_database(name));
      env.open(lmdb_layout::pending_database(name));
      std::vector<std::string> values; // operator state: this instance's share
      bool keyed = !operator_state.contains(name);
      if (!keyed) {
        const auto& all = operator_state.at(name);
        bool whole = name.starts_with(lmdb_layout::union_state_prefix);
        for (size_t k = 0; k < all.size(); ++k)
          if (whole || k % new_parallelism == j)
            values.push_back(all[k]);
      }
      env.write([&](lmdb_environment::transaction& txn) {
        txn.put(meta, std::string{lmdb_layout::type_prefix} + name, type);
        if (!keyed) {
          for (uint32_t index = 0; index < values.size(); ++index)
            txn.put(
              db,
              lmdb_layout::stored_key(key_group_of(index, max_parallelism), encode_state(index)),
              values[index]);
          return;
        }
        for (auto& old : olds) {
          auto old_db = old.completed.find(name);
          if (old_db == old.completed.end())
            continue;
          old.env->read([&](const lmdb_environment::transaction& old_txn) {
            for (uint32_t group = 0; group < max_parallelism; ++group) {
              if (instance_of_key_group(group, new_parallelism, max_parallelism) != j)
                continue;
              old_txn.scan(old_db->second, lmdb_layout::key_group_prefix(group),
                           [&](std::string_view key, std::string_view value) {
                             txn.put(db, key, value);
                             return true;
                           });
            }
          });
        }
      });
    }
    env.write([&](lmdb_environment::transaction& txn) {
      txn.put(meta, lmdb_layout::taken_key, lmdb_layout::encode_id(restored));
      txn.put(meta, lmdb_layout::completed_key, lmdb_layout::encode_id(restored));
    });
  }
}

std::vector<std::string> read_lines(const fs::path& path) {
  std::vector<std::string> lines;
  std::ifstream in{path};
  if (!in)
    fail(path.string(), "cannot read it");
  for (std::string line; std::getline(in, line);)
    if (!line.empty())
      lines.push_back(line);
  return lines;
}

/// Swaps the new instance directories built in `.rescale` in for the old ones and makes the
/// new manifest current. Safe to run again after a crash at any point of it.
void finish_rescale(const fs::path& dir) {
  auto build = dir / rescale_dir;
  auto retired = dir / retired_dir;
  auto operators = read_lines(build / operators_file);
  if (!fs::exists(build / retired_marker)) {
    // Phase 1: every old directory of a moved operator goes to `.retired`.
    fs::create_directories(retired);
    for (const auto& entry : fs::directory_iterator{dir}) {
      auto file = entry.path().filename().string();
      for (const auto& op : operators)
        if (is_instance_of(file, op))
          rename_or_fail(entry.path(), retired / file);
    }
    sync_directory(dir.string());
    replace_file_durably((build / retired_marker).string(), "", "state directory");
  }
  // Phase 2: the new directories take their places, then the manifest.
  for (const auto& entry : fs::directory_iterator{build})
    if (entry.is_directory())
      rename_or_fail(entry.path(), dir / entry.path().filename());
  if (fs::exists(build / manifest_file))
    rename_or_fail(build / manifest_file, dir / manifest_file);
  sync_directory(dir.string());
  fs::remove_all(build);
  fs::remove_all(retired);
}

} // namespace

std::string safe_path_component(const std::string& name) {
  std::string out = name;
  for (auto& c : out)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.'
        && c != '#')
      c = '_';
  if (out.empty() || out == "." || out == "..")
    out = "_" + out;
  return out;
}

std::string instance_directory_name(const std::string& operator_name, uint32_t index) {
  return safe_path_component(operator_name) + "-" + std::to_string(index);
}

std::optional<graph_manifest> graph_manifest::load(const std::string& path) {
  if (!fs::exists(path))
    return std::nullopt;
  std::ifstream in{path};
  if (!in)
    fail(path, "cannot read it");
  graph_manifest m;
  std::string line;
  if (!std::getline(in, line) || line != manifest_header)
    fail(path, "not a Sluice graph manifest (corrupt?)");
  while (std::getline(in, line)) {
    std::istringstream fields{line};
    std::string kind;
    fields >> kind;
    if (kind == "max_parallelism") {
      fields >> m.max_parallelism;
    } else if (kind == "operator") {
      operator_entry op;
      fields >> std::quoted(op.name) >> op.parallelism >> std::quoted(op.record_types);
      m.operators.push_back(std::move(op));
    } else if (kind == "edge") {
      edge_entry e;
      fields >> std::quoted(e.from) >> std::quoted(e.to) >> e.partitioning;
      m.edges.push_back(std::move(e));
    } else if (!kind.empty()) {
      fail(path, "unknown entry '" + kind + "' (corrupt?)");
    }
    if (fields.fail())
      fail(path, "cannot parse the line '" + line + "' (corrupt?)");
  }
  return m;
}

void graph_manifest::save(const std::string& path) const {
  std::ostringstream text;
  text << manifest_header << "\nmax_parallelism " << max_parallelism << "\n";
  for (const auto& op : operators)
    text << "operator " << std::quoted(op.name) << ' ' << op.parallelism << ' '
         << std::quoted(op.record_types) << "\n";
  for (const auto& e : edges)
    text << "edge " << std::quoted(e.from) << ' ' << std::quoted(e.to) << ' ' << e.partitioning
         << "\n";
  replace_file_durably(path, text.str(), "graph manifest");
}

std::optional<std::string> graph_manifest::incompatibility(const graph_manifest& stored) const {
  if (stored.max_parallelism != max_parallelism)
    return "was written with max_parallelism " + std::to_string(stored.max_parallelism)
           + ", and this run has " + std::to_string(max_parallelism)
           + ": the key groups of its state would not match";
  auto by_name = [](const graph_manifest& m) {
    std::map<std::string, const operator_entry*> ops;
    for (const auto& op : m.operators)
      ops.emplace(op.name, &op);
    return ops;
  };
  const std::string another_graph =
    "holds the state of another operator graph (operators without a .name(...) are named by "
    "their position, which changes with the graph): ";
  auto now = by_name(*this);
  auto then = by_name(stored);
  for (const auto& op : operators) {
    auto i = then.find(op.name);
    if (i == then.end())
      return another_graph + "it has no operator '" + op.name + "'";
    if (i->second->record_types != op.record_types)
      return another_graph + "its operator '" + op.name + "' had records " + i->second->record_types
             + ", this one has " + op.record_types;
  }
  for (const auto& op : stored.operators)
    if (!now.contains(op.name))
      return another_graph + "its operator '" + op.name + "' is not in this pipeline";
  auto edge_set = [](const graph_manifest& m) {
    std::set<std::tuple<std::string, std::string, std::string>> edges;
    for (const auto& e : m.edges)
      edges.emplace(e.from, e.to, e.partitioning);
    return edges;
  };
  auto edges_now = edge_set(*this);
  auto edges_then = edge_set(stored);
  for (const auto& [from, to, kind] : edges_then)
    if (!edges_now.contains({from, to, kind}))
      return another_graph + "its edge '" + from + "' -> '" + to + "' (" + kind
             + ") is not in this pipeline";
  for (const auto& [from, to, kind] : edges_now)
    if (!edges_then.contains({from, to, kind}))
      return another_graph + "it has no edge '" + from + "' -> '" + to + "' (" + kind + ")";
  return std::nullopt;
}

void prepare_state_directory(const std::string& pipeline_dir, const graph_manifest& graph,
                             std::optional<uint64_t> checkpoint) {
  fs::path dir{pipeline_dir};
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec)
    fail(pipeline_dir, "cannot create it: " + ec.message());
  try {
    auto build = dir / rescale_dir;
    if (fs::exists(build / ready_marker))
      finish_rescale(dir); // a crash interrupted the swap of an earlier run
    fs::remove_all(build); // a build that never became ready
    fs::remove_all(dir / retired_dir);

    auto manifest_path = (dir / manifest_file).string();
    auto stored = graph_manifest::load(manifest_path);
    if (!stored)
      return graph.save(manifest_path);
    if (auto why = graph.incompatibility(*stored))
      fail(pipeline_dir, *why
                           + "; start it with another state_dir or pipeline name, or remove the "
                             "directory to start without state");

    std::map<std::string, uint32_t> old_parallelism;
    for (const auto& op : stored->operators)
      old_parallelism.emplace(op.name, op.parallelism);
    std::string moved;
    fs::create_directories(build);
    for (const auto& op : graph.operators) {
      auto old = old_parallelism.at(op.name);
      if (old == op.parallelism)
        continue;
      move_operator_state(dir, build, op.name, old, op.parallelism, graph.max_parallelism,
                          checkpoint);
      moved += safe_path_component(op.name) + "\n";
    }
    if (moved.empty()) {
      fs::remove_all(build);
      return;
    }
    replace_file_durably((build / operators_file).string(), moved, "state directory");
    graph.save((build / manifest_file).string());
    replace_file_durably((build / ready_marker).string(), "", "state directory");
    finish_rescale(dir);
  } catch (const fs::filesystem_error& e) {
    fail(pipeline_dir, e.what());
  }
}

} // namespace sluice
