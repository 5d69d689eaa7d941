#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include "sluice/error.hpp"

namespace sluice {

/// Thrown when a state backend cannot do its work (an unwritable or full disk, a corrupt
/// environment); the message names the path.
class state_error : public failure {
public:
  explicit state_error(const std::string& message, std::string subject = {})
    : failure(errc::state, message, std::move(subject)) {}
};

/// One LMDB environment (a directory holding `data.mdb` and `lock.mdb`) with named databases,
/// at the level of bytes. Work happens in `read` and `write` calls, each one transaction: none
/// stays open between calls, so none crosses an actor's handler invocations.
///
/// A write that finds the map full grows the map (doubling it) and runs again instead of
/// failing. Readers never block the writer, and may run on other threads.
class lmdb_environment {
public:
  /// A database handle.
  using database = unsigned;

  /// The operations of one transaction. Views returned by `get` and passed to `scan`
  /// callbacks are valid until the transaction's next write or its end.
  class transaction {
  public:
    [[nodiscard]] std::optional<std::string_view> get(database db, std::string_view key) const;

    /// Calls `fn(key, value)` for the entries of `db` whose key starts with `prefix`, in key
    /// order, while `fn` returns true. `fn` must not write to `db`.
    void scan(database db, std::string_view prefix,
              const std::function<bool(std::string_view, std::string_view)>& fn) const;

    /// Number of entries in `db`, and the bytes of the pages it uses.
    [[nodiscard]] size_t entries(database db) const;
    [[nodiscard]] uint64_t bytes(database db) const;

    void put(database db, std::string_view key, std::string_view value);
    /// Puts an entry whose key is greater than every key of `db` at its end without a search
    /// (the fast way to write keys in ascending order); writes nothing and returns false if
    /// the key is not greater.
    bool append(database db, std::string_view key, std::string_view value);
    void erase(database db, std::string_view key);
    /// Calls `fn(key, value)` for the first entry of `db` in key order and removes it, again
    /// and again, until `fn` returns false (that entry stays) or `db` is empty.
    void erase_front_while(database db,
                           const std::function<bool(std::string_view, std::string_view)>& fn);
    /// Removes every entry of `db`.
    void clear(database db);

  private:
    friend class lmdb_environment;
    transaction(const lmdb_environment& env, void* txn) : env_(&env), txn_(txn) {}

    const lmdb_environment* env_;
    void* txn_;
  };

  /// Opens the environment in `directory`, creating the directory if needed. LMDB allows one
  /// open environment per directory and process: use `shared` where others may open it too.
  /// @throws state_error naming the path if it cannot be created, opened or is not LMDB's.
  explicit lmdb_environment(std::string directory);

  /// The environment in `directory`, shared by all in this process that open it so (an
  /// instance's state store, views of its state); opened when none is open yet.
  /// @throws as the constructor.
  static std::shared_ptr<lmdb_environment> shared(const std::string& directory);
  ~lmdb_environment();

  lmdb_environment(const lmdb_environment&) = delete;
  lmdb_environment& operator=(const lmdb_environment&) = delete;

  [[nodiscard]] const std::string& path() const noexcept { return path_; }

  /// The database `name`, created if absent.
  database open(const std::string& name);

  /// Runs `fn` in a read-only transaction.
  void read(const std::function<void(const transaction&)>& fn) const;

  /// Runs `fn` in a write transaction and commits it durably. If the map fills up, the
  /// transaction is rolled back, the map grows and `fn` runs again from the start.
  void write(const std::function<void(transaction&)>& fn);

  /// Bytes the environment's data file uses.
  [[nodiscard]] uint64_t used_bytes() const;

private:
  struct handle;

  [[noreturn]] void fail(const std::string& what, int code) const;

  std::string path_;
  std::unique_ptr<handle> env_;
};

} // namespace sluice
