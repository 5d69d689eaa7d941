#include "sluice/lmdb_environment.hpp"

#include <sys/statvfs.h>

#include <cerrno>
#include <filesystem>
#include <map>
#include <mutex>
#include <shared_mutex>
#include <system_error>
#include <vector>

#include <lmdb.h>

namespace sluice {

namespace {

/// The map size a new environment starts with; it doubles whenever a write finds it full.
constexpr size_t initial_map_size = size_t{64} << 20;

/// Named databases per environment: a few per keyed state of an operator instance.
constexpr unsigned max_databases = 1024;

MDB_val as_val(std::string_view bytes) {
  return MDB_val{bytes.size(), const_cast<char*>(bytes.data())};
}

std::string_view as_view(const MDB_val& v) {
  return {static_cast<const char*>(v.mv_data), v.mv_size};
}

MDB_txn* native(void* txn) {
  return static_cast<MDB_txn*>(txn);
}

/// Thrown inside a write transaction when the map is full: `write` grows it and runs again.
struct map_full {};

/// Whether the filesystem holding `path` has no space left for this process. LMDB reports a
/// write the filesystem cut short as EIO ("short write, filesystem full?" in mdb_page_flush),
/// and on a regular file that happens when it runs out of space.
bool filesystem_full(const std::string& path) {
  struct statvfs fs {};
  return ::statvfs(path.c_str(), &fs) == 0 && fs.f_bavail == 0;
}

} // namespace

struct lmdb_environment::handle {
  MDB_env* env = nullptr;
  /// Held shared by every transaction, exclusively while the map grows (LMDB allows resizing
  /// only while this process has no transaction open).
  mutable std::shared_mutex resize;
  /// Writers take turns here, so a waiting writer never holds `resize` shared while another
  /// grows the map.
  std::mutex writer;
  /// Read transactions reset after use, renewed by the next read: beginning one allocates a
  /// slot per named database (60 KB with `max_databases`), which the allocator may hand back
  /// to the kernel at every free, and an overlay miss reads once per key.
  std::mutex readers_mutex;
  std::vector<MDB_txn*> idle_readers;

  /// Sets `txn` to a read transaction on the newest snapshot, renewed if one is idle; LMDB's
  /// error code, or 0.
  int begin_read(MDB_txn*& txn) {
    txn = nullptr;
    {
      std::lock_guard guard{readers_mutex};
      if (!idle_readers.empty()) {
        txn = idle_readers.back();
        idle_readers.pop_back();
      }
    }
    if (txn) {
      if (mdb_txn_renew(txn) == 0)
        return 0;
      mdb_txn_abort(txn);
      txn = nullptr;
    }
    return mdb_txn_begin(env, nullptr, MDB_RDONLY, &txn);
  }

  /// Ends a read transaction, keeping it for the next read.
  void end_read(MDB_txn* txn) {
    mdb_txn_reset(txn);
    std::lock_guard guard{readers_mutex};
    idle_readers.push_back(txn);
  }

  /// Frees the idle read transactions (before the map is resized or the environment closed).
  void drop_idle_readers() {
    std::lock_guard guard{readers_mutex};
    for (auto* txn : idle_readers)
      mdb_txn_abort(txn);
    idle_readers.clear();
  }

  ~handle() {
    drop_idle_readers();
    if (env)
      mdb_env_close(env);
  }
};

void lmdb_environment::fail(const std::string& what, int code) const {
  if (code == MDB_MAP_FULL)
    throw map_full{};
  if (code == EIO && filesystem_full(path_))
    code = ENOSPC;
  std::string reason = code == MDB_INVALID     ? "not an LMDB environment (corrupt?)"
                       : code == MDB_CORRUPTED ? "the environment is corrupt"
                                               : mdb_strerror(code);
  throw state_error("keyed state in " + path_ + ": " + what + ": " + reason, path_);
}

lmdb_environment::lmdb_environment(std::string directory)
  : path_(std::move(directory)), env_(std::make_unique<handle>()) {
  std::error_code ec;
  std::filesystem::create_directories(path_, ec);
  if (ec)
    throw state_error("keyed state in " + path_ + ": cannot create the directory: " + ec.message(),
                      path_);
  if (int rc = mdb_env_create(&env_->env))
    fail("cannot create the environment", rc);
  if (int rc = mdb_env_set_maxdbs(env_->env, max_databases))
    fail("cannot configure the environment", rc);
  if (int rc = mdb_env_set_mapsize(env_->env, initial_map_size))
    fail("cannot configure the environment", rc);
  // MDB_NOTLS: read transactions are not tied to a thread, so the console may read.
  if (int rc = mdb_env_open(env_->env, path_.c_str(), MDB_NOTLS, 0644)) {
    mdb_env_close(env_->env);
    env_->env = nullptr;
    fail("cannot open the environment", rc);
  }
}

lmdb_environment::~lmdb_environment() = default;

std::shared_ptr<lmdb_environment> lmdb_environment::shared(const std::string& directory) {
  static std::mutex mutex;
  static std::map<std::string, std::weak_ptr<lmdb_environment>> open;
  std::error_code ec;
  auto key = std::filesystem::weakly_canonical(directory, ec).string();
  if (ec)
    key = directory;
  std::lock_guard guard{mutex};
  if (auto env = open[key].lock())
    return env;
  for (auto i = open.begin(); i != open.end();)
    i = i->second.expired() ? open.erase(i) : std::next(i);
  auto env = std::make_shared<lmdb_environment>(directory);
  open[key] = env;
  return env;
}

lmdb_environment::database lmdb_environment::open(const std::string& name) {
  std::lock_guard writer{env_->writer};
  std::shared_lock lock{env_->resize};
  MDB_txn* txn = nullptr;
  if (int rc = mdb_txn_begin(env_->env, nullptr, 0, &txn))
    fail("cannot begin a transaction", rc);
  database db = 0;
  if (int rc = mdb_dbi_open(txn, name.c_str(), MDB_CREATE, &db)) {
    mdb_txn_abort(txn);
    fail("cannot open database '" + name + "'", rc);
  }
  if (int rc = mdb_txn_commit(txn))
    fail("cannot create database '" + name + "'", rc);
  return db;
}

void lmdb_environment::read(const std::function<void(const transaction&)>& fn) const {
  std::shared_lock lock{env_->resize};
  MDB_txn* txn = nullptr;
  if (int rc = env_->begin_read(txn))
    fail("cannot begin a read transaction", rc);
  try {
    fn(transaction{*this, txn});
  } catch (...) {
    mdb_txn_abort(txn);
    throw;
  }
  env_->end_read(txn);
}

void lmdb_environment::write(const std::function<void(transaction&)>& fn) {
  std::lock_guard writer{env_->writer};
  for (;;) {
    try {
      std::shared_lock lock{env_->resize};
      MDB_txn* txn = nullptr;
      if (int rc = mdb_txn_begin(env_->env, nullptr, 0, &txn))
        fail("cannot begin a write transaction", rc);
      try {
        transaction t{*this, txn};
        fn(t);
      } catch (...) {
        mdb_txn_abort(txn);
        throw;
      }
      // A failed commit frees the transaction too.
      if (int rc = mdb_txn_commit(txn))
        fail("cannot commit", rc);
      return;
    } catch (const map_full&) {
      // Rolled back: grow the map below and run `fn` again.
    }
    std::unique_lock lock{env_->resize};
    env_->drop_idle_readers();
    MDB_envinfo info{};
    mdb_env_info(env_->env, &info);
    if (int rc = mdb_env_set_mapsize(env_->env, info.me_mapsize * 2))
      fail("cannot grow the map", rc);
  }
}

uint64_t lmdb_environment::used_bytes() const {
  MDB_envinfo info{};
  MDB_stat stat{};
  mdb_env_info(env_->env, &info);
  mdb_env_stat(env_->env, &stat);
  return (uint64_t{info.me_last_pgno} + 1) * stat.ms_psize;
}

std::optional<std::string_view> lmdb_environment::transaction::get(database db,
                                                                   std::string_view key) const {
  auto k = as_val(key);
  MDB_val v{};
  int rc = mdb_get(native(txn_), db, &k, &v);
  if (rc == MDB_NOTFOUND)
    return std::nullopt;
  if (rc)
    env_->fail("cannot read", rc);
  return as_view(v);
}

void lmdb_environment::transaction::scan(
  database db, std::string_view prefix,
  const std::function<bool(std::string_view, std::string_view)>& fn) const {
  MDB_cursor* cursor = nullptr;
  if (int rc = mdb_cursor_open(native(txn_), db, &cursor))
    env_->fail("cannot open a cursor", rc);
  auto k = as_val(prefix);
  MDB_val v{};
  int rc = mdb_cursor_get(cursor, &k, &v, prefix.empty() ? MDB_FIRST : MDB_SET_RANGE);
  try {
    while (rc == 0 && as_view(k).starts_with(prefix) && fn(as_view(k), as_view(v)))
      rc = mdb_cursor_get(cursor, &k, &v, MDB_NEXT);
  } catch (...) {
    mdb_cursor_close(cursor);
    throw;
  }
  mdb_cursor_close(cursor);
  if (rc != 0 && rc != MDB_NOTFOUND)
    env_->fail("cannot scan", rc);
}

size_t lmdb_environment::transaction::entries(database db) const {
  MDB_stat stat{};
  if (int rc = mdb_stat(native(txn_), db, &stat))
    env_->fail("cannot read statistics", rc);
  return stat.ms_entries;
}

uint64_t lmdb_environment::transaction::bytes(database db) const {
  MDB_stat stat{};
  if (int rc = mdb_stat(native(txn_), db, &stat))
    env_->fail("cannot read statistics", rc);
  return uint64_t{stat.ms_psize}
         * (uint64_t{stat.ms_branch_pages} + stat.ms_leaf_pages + stat.ms_overflow_pages);
}

void lmdb_environment::transaction::put(database db, std::string_view key, std::string_view value) {
  auto k = as_val(key);
  auto v = as_val(value);
  if (int rc = mdb_put(native(txn_), db, &k, &v, 0))
    env_->fail("cannot write", rc);
}

bool lmdb_environment::transaction::append(database db, std::string_view key,
                                           std::string_view value) {
  auto k = as_val(key);
  auto v = as_val(value);
  int rc = mdb_put(native(txn_), db, &k, &v, MDB_APPEND);
  if (rc == MDB_KEYEXIST)
    return false;
  if (rc)
    env_->fail("cannot write", rc);
  return true;
}

void lmdb_environment::transaction::erase(database db, std::string_view key) {
  auto k = as_val(key);
  int rc = mdb_del(native(txn_), db, &k, nullptr);
  if (rc != 0 && rc != MDB_NOTFOUND)
    env_->fail("cannot delete", rc);
}

void lmdb_environment::transaction::erase_front_while(
  database db, const std::function<bool(std::string_view, std::string_view)>& fn) {
  MDB_cursor* cursor = nullptr;
  if (int rc = mdb_cursor_open(native(txn_), db, &cursor))
    env_->fail("cannot open a cursor", rc);
  int rc = 0;
  try {
    MDB_val k{};
    MDB_val v{};
    // From the first entry each time: a descent along the tree's left edge, no comparisons.
    while ((rc = mdb_cursor_get(cursor, &k, &v, MDB_FIRST)) == 0 && fn(as_view(k), as_view(v)))
      if ((rc = mdb_cursor_del(cursor, 0)) != 0)
        break;
  } catch (...) {
    mdb_cursor_close(cursor);
    throw;
  }
  mdb_cursor_close(cursor);
  if (rc != 0 && rc != MDB_NOTFOUND)
    env_->fail("cannot delete", rc);
}

void lmdb_environment::transaction::clear(database db) {
  if (int rc = mdb_drop(native(txn_), db, 0))
    env_->fail("cannot empty a database", rc);
}

} // namespace sluice
