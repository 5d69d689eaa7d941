#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace sluice {

/// Thrown when a state backend cannot do its work (an unwritable or full disk, a corrupt
/// environment); the message names the path.
class state_error : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

/// One LMDB environment (a directory holding `data.mdb` and `lock.mdb`) with named databases,
/// at the level of bytes. Every call runs in its own transaction: none stays open between calls,
/// so none crosses an actor's handler invocations.
///
/// A write that finds the map full grows the map (doubling it) and retries instead of failing.
/// Readers never block the writer, and may run on other threads.
class lmdb_environment {
public:
  /// A database handle.
  using database = unsigned;

  /// One change of a transaction: a put, or a delete when `value` is empty.
  struct change {
    database db = 0;
    std::string key;
    std::optional<std::string> value;
  };

  /// Opens the environment in `directory`, creating the directory if needed.
  /// @throws state_error naming the path if it cannot be created, opened or is not LMDB's.
  explicit lmdb_environment(std::string directory);
  ~lmdb_environment();

  lmdb_environment(const lmdb_environment&) = delete;
  lmdb_environment& operator=(const lmdb_environment&) = delete;

  [[nodiscard]] const std::string& path() const noexcept { return path_; }

  /// The database `name`, created if absent.
  database open(const std::string& name);

  /// The value of `key` in `db`, if any.
  [[nodiscard]] std::optional<std::string> get(database db, std::string_view key) const;

  /// Calls `fn(key, value)` for the entries of `db` whose key starts with `prefix`, in key
  /// order, while `fn` returns true.
  void scan(database db, std::string_view prefix,
            const std::function<bool(std::string_view, std::string_view)>& fn) const;

  /// Number of entries in `db`.
  [[nodiscard]] size_t entries(database db) const;

  /// Bytes the environment's data file uses.
  [[nodiscard]] uint64_t used_bytes() const;

  /// One durable transaction: for each `(from, to)` in `merges`, applies the entries of `from`
  /// to `to` (a value starting with byte 0 deletes the key, 1 puts the rest) and empties `from`;
  /// then applies `changes`; then empties each database in `clear`.
  void commit(const std::vector<std::pair<database, database>>& merges,
              const std::vector<change>& changes, const std::vector<database>& clear = {});

private:
  struct handle;

  [[noreturn]] void fail(const std::string& what, int code) const;

  std::string path_;
  std::unique_ptr<handle> env_;
};

} // namespace sluice
