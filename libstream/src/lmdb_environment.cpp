#include "sluice/lmdb_environment.hpp"

#include <filesystem>
#include <mutex>
#include <shared_mutex>
#include <system_error>

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

/// Thrown inside a write transaction when the map is full: the caller grows it and retries.
struct map_full {};

} // namespace

struct lmdb_environment::handle {
  MDB_env* env = nullptr;
  /// Held shared by every transaction, exclusively while the map grows (LMDB allows resizing
  /// only while this process has no transaction open).
  std::shared_mutex resize;
  /// Writers take turns here, so a waiting writer never holds `resize` shared while another
  /// grows the map.
  std::mutex writer;

  ~handle() {
    if (env)
      mdb_env_close(env);
  }
};

void lmdb_environment::fail(const std::string& what, int code) const {
  std::string reason = code == MDB_INVALID     ? "not an LMDB environment (corrupt?)"
                       : code == MDB_CORRUPTED ? "the environment is corrupt"
                                               : mdb_strerror(code);
  throw state_error("keyed state in " + path_ + ": " + what + ": " + reason);
}

lmdb_environment::lmdb_environment(std::string directory)
  : path_(std::move(directory)), env_(std::make_unique<handle>()) {
  std::error_code ec;
  std::filesystem::create_directories(path_, ec);
  if (ec)
    throw state_error("keyed state in " + path_ + ": cannot create the directory: " + ec.message());
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

lmdb_environment::database lmdb_environment::open(const std::string& name) {
  database db = 0;
  std::lock_guard writer{env_->writer};
  std::shared_lock lock{env_->resize};
  MDB_txn* txn = nullptr;
  if (int rc = mdb_txn_begin(env_->env, nullptr, 0, &txn))
    fail("cannot begin a transaction", rc);
  if (int rc = mdb_dbi_open(txn, name.c_str(), MDB_CREATE, &db)) {
    mdb_txn_abort(txn);
    fail("cannot open database '" + name + "'", rc);
  }
  if (int rc = mdb_txn_commit(txn))
    fail("cannot create database '" + name + "'", rc);
  return db;
}

std::optional<std::string> lmdb_environment::get(database db, std::string_view key) const {
  std::shared_lock lock{env_->resize};
  MDB_txn* txn = nullptr;
  if (int rc = mdb_txn_begin(env_->env, nullptr, MDB_RDONLY, &txn))
    fail("cannot begin a read transaction", rc);
  auto k = as_val(key);
  MDB_val v{};
  int rc = mdb_get(txn, db, &k, &v);
  std::optional<std::string> result;
  if (rc == 0)
    result.emplace(as_view(v));
  mdb_txn_abort(txn);
  if (rc != 0 && rc != MDB_NOTFOUND)
    fail("cannot read", rc);
  return result;
}

void lmdb_environment::scan(
  database db, std::string_view prefix,
  const std::function<bool(std::string_view, std::string_view)>& fn) const {
  std::shared_lock lock{env_->resize};
  MDB_txn* txn = nullptr;
  if (int rc = mdb_txn_begin(env_->env, nullptr, MDB_RDONLY, &txn))
    fail("cannot begin a read transaction", rc);
  MDB_cursor* cursor = nullptr;
  if (int rc = mdb_cursor_open(txn, db, &cursor)) {
    mdb_txn_abort(txn);
    fail("cannot open a cursor", rc);
  }
  auto k = as_val(prefix);
  MDB_val v{};
  int rc = mdb_cursor_get(cursor, &k, &v, prefix.empty() ? MDB_FIRST : MDB_SET_RANGE);
  try {
    while (rc == 0 && as_view(k).starts_with(prefix) && fn(as_view(k), as_view(v)))
      rc = mdb_cursor_get(cursor, &k, &v, MDB_NEXT);
  } catch (...) {
    mdb_cursor_close(cursor);
    mdb_txn_abort(txn);
    throw;
  }
  mdb_cursor_close(cursor);
  mdb_txn_abort(txn);
  if (rc != 0 && rc != MDB_NOTFOUND)
    fail("cannot scan", rc);
}

size_t lmdb_environment::entries(database db) const {
  std::shared_lock lock{env_->resize};
  MDB_txn* txn = nullptr;
  if (int rc = mdb_txn_begin(env_->env, nullptr, MDB_RDONLY, &txn))
    fail("cannot begin a read transaction", rc);
  MDB_stat stat{};
  int rc = mdb_stat(txn, db, &stat);
  mdb_txn_abort(txn);
  if (rc)
    fail("cannot read statistics", rc);
  return stat.ms_entries;
}

uint64_t lmdb_environment::used_bytes() const {
  MDB_envinfo info{};
  MDB_stat stat{};
  mdb_env_info(env_->env, &info);
  mdb_env_stat(env_->env, &stat);
  return (uint64_t{info.me_last_pgno} + 1) * stat.ms_psize;
}

void lmdb_environment::commit(const std::vector<std::pair<database, database>>& merges,
                              const std::vector<change>& changes,
                              const std::vector<database>& clear) {
  std::lock_guard writer{env_->writer};
  for (;;) {
    {
      std::shared_lock lock{env_->resize};
      MDB_txn* txn = nullptr;
      if (int rc = mdb_txn_begin(env_->env, nullptr, 0, &txn))
        fail("cannot begin a write transaction", rc);
      auto check = [&](int rc, const char* what) {
        if (rc == 0)
          return;
        mdb_txn_abort(txn);
        if (rc == MDB_MAP_FULL)
          throw map_full{};
        fail(what, rc);
      };
      try {
        for (auto [from, to] : merges) {
          MDB_cursor* cursor = nullptr;
          check(mdb_cursor_open(txn, from, &cursor), "cannot open a cursor");
          MDB_val k{};
          MDB_val v{};
          int rc = mdb_cursor_get(cursor, &k, &v, MDB_FIRST);
          while (rc == 0) {
            auto value = as_view(v);
            int put_rc = 0;
            if (!value.empty() && value[0] == 1) {
              auto rest = as_val(value.substr(1));
              put_rc = mdb_put(txn, to, &k, &rest, 0);
            } else {
              put_rc = mdb_del(txn, to, &k, nullptr);
              if (put_rc == MDB_NOTFOUND)
                put_rc = 0;
            }
            if (put_rc) {
              mdb_cursor_close(cursor);
              check(put_rc, "cannot write");
            }
            rc = mdb_cursor_get(cursor, &k, &v, MDB_NEXT);
          }
          mdb_cursor_close(cursor);
          if (rc != MDB_NOTFOUND)
            check(rc, "cannot read");
          check(mdb_drop(txn, from, 0), "cannot empty a database");
        }
        for (const auto& c : changes) {
          auto k = as_val(c.key);
          if (c.value) {
            auto v = as_val(*c.value);
            check(mdb_put(txn, c.db, &k, &v, 0), "cannot write");
          } else if (int rc = mdb_del(txn, c.db, &k, nullptr); rc != MDB_NOTFOUND) {
            check(rc, "cannot delete");
          }
        }
        for (auto db : clear)
          check(mdb_drop(txn, db, 0), "cannot empty a database");
        int rc = mdb_txn_commit(txn);
        if (rc == MDB_MAP_FULL)
          throw map_full{};
        if (rc)
          fail("cannot commit", rc);
        return;
      } catch (const map_full&) {
        // The transaction was aborted; grow the map below and run it again.
      }
    }
    std::unique_lock lock{env_->resize};
    MDB_envinfo info{};
    mdb_env_info(env_->env, &info);
    if (int rc = mdb_env_set_mapsize(env_->env, info.me_mapsize * 2))
      fail("cannot grow the map", rc);
  }
}

} // namespace sluice
