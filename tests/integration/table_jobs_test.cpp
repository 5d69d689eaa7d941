// users (user -> city, or a tombstone) and accounts (user -> balance) as changelogs from 2
// generator instances each (a user's changes all from one) -> to_table -> filter, map_values,
// group_by(city).count() / aggregate, table joins -> to_stream -> sink
//
// Every changelog is consistent (each change of a key retracts exactly the value the change
// before gave it: nothing lost, nothing repeated) and ends at the contents a reference computed
// here gives, at parallelism 1, 2 and 4, with instances killed alone, and after a
// stop-and-restore with other parallelism.

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "support/changelog_check.hpp"
#include "support/test_support.hpp"

using namespace sluice;
using sluice::test::check_changelog;
using namespace std::chrono_literals;

namespace {

/// A change of a user's city (none: the user is deleted).
using user_row = std::pair<std::string, std::optional<std::string>>;

/// A change of a user's balance (none: the account is closed).
using account_row = std::pair<std::string, std::optional<int64_t>>;

/// The user of change `i` of 300: generator instance i % 2 of 2 makes all changes of a user.
std::string user_of(uint64_t i, uint64_t salt) {
  return "u" + std::to_string(i % 2 + 2 * (((i / 2) * salt) % 150));
}

user_row user_change(uint64_t i) {
  if (i % 11 == 5)
    return {user_of(i, 7919), std::nullopt};
  return {user_of(i, 7919), "c" + std::to_string((i * 13) % 7)};
}

account_row account_change(uint64_t i) {
  if (i % 17 == 3)
    return {user_of(i, 104729), std::nullopt};
  return {user_of(i, 104729), static_cast<int64_t>((i * 31) % 1000)};
}

/// The contents of a table after the first `events` changes `change(i)` in order.
template <class V, class Change>
std::map<std::string, V> contents_after(uint64_t events, Change change) {
  std::map<std::string, V> result;
  for (uint64_t i = 0; i < events; ++i) {
    auto [key, value] = change(i);
    if (value)
      result[key] = *value;
    else
      result.erase(key);
  }
  return result;
}

auto users_table(pipeline& p, uint64_t events, double rate = 0,
                 const supervision& supervise = supervision::operator_default()) {
  auto users = p.source(generate<user_row>(user_change, {.count = events, .rate = rate}));
  users.parallelism(2).name("users").supervision(supervise);
  auto table = users.key_by(&user_row::first).to_table([](const user_row& r) { return r.second; });
  table.name("user_table").supervision(supervise);
  return table;
}

auto accounts_table(pipeline& p, uint64_t events, double rate = 0,
                    const supervision& supervise = supervision::operator_default()) {
  auto accounts = p.source(generate<account_row>(account_change, {.count = events, .rate = rate}));
  accounts.parallelism(2).name("accounts").supervision(supervise);
  auto table =
    accounts.key_by(&account_row::first).to_table([](const account_row& r) { return r.second; });
  table.name("account_table").supervision(supervise);
  return table;
}

/// Runs the pipeline `build(p)` makes with `parallelism` as the default; returns what its sink
/// collected.
template <class T, class Build>
std::vector<T> run_collecting(uint32_t parallelism, Build build) {
  std::vector<T> out;
  pipeline p{"tables"};
  build(p).sink(collect(out));
  runtime rt{test::small_batches(parallelism)};
  auto error = rt.run(p);
  INFO(describe(error));
  REQUIRE_FALSE(error);
  return out;
}

/// The number of users per city in `users`, each city's name passed through `rename`, without
/// those `keep` drops.
template <class Keep, class Rename>
std::map<std::string, int64_t> users_per_city(const std::map<std::string, std::string>& users,
                                              Keep keep, Rename rename) {
  std::map<std::string, int64_t> result;
  for (const auto& [user, city] : users)
    if (keep(city))
      ++result[rename(city)];
  return result;
}

} // namespace

TEST_CASE(
  "a stream as a table: each change retracts the key's value before, a tombstone deletes it, "
  "and the table ends at the latest values") {
  constexpr uint64_t events = 5'000;
  auto expected = contents_after<std::string>(events, user_change);
  for (uint32_t parallelism : {1u, 2u, 4u}) {
    INFO("parallelism " << parallelism);
    auto changes = run_collecting<table_change<std::string, std::string>>(
      parallelism, [&](pipeline& p) { return users_table(p, events).to_stream(); });
    check_changelog(changes, expected);
  }
}

TEST_CASE("a grouped count moves a row from its old group to its new one, and drops empty groups") {
  constexpr uint64_t events = 5'000;
  auto users = contents_after<std::string>(events, user_change);
  auto not_c3 = [](const std::string& city) { return city != "c3"; };
  auto shout = [](const std::string& city) { return city + "!"; };
  for (uint32_t parallelism : {1u, 2u, 4u}) {
    INFO("parallelism " << parallelism);
    auto counts = run_collecting<table_change<std::string, int64_t>>(parallelism, [&](pipeline& p) {
      return users_table(p, events)
        .group_by([](const std::string& user, const std::string& city) {
          return std::pair{city, user};
        })
        .count()
        .to_stream();
    });
    check_changelog(counts, users_per_city(
                              users, [](auto&) { return true; }, std::identity{}));
    auto filtered =
      run_collecting<table_change<std::string, int64_t>>(parallelism, [&](pipeline& p) {
        return users_table(p, events)
          .filter([&](const std::string&, const std::string& city) { return not_c3(city); })
          .map_values(shout)
          .group_by([](const std::string& user, const std::string& city) {
            return std::pair{city, user};
          })
          .count()
          .to_stream();
      });
    check_changelog(filtered, users_per_city(users, not_c3, shout));
  }
}

TEST_CASE("two groupings of one table in one job keep their state apart") {
  // users -> to_table -+-> group_by(city).count()        -> sink
  //                    +-> group_by(parity of the city's number).count() -> sink
  constexpr uint64_t events = 3'000;
  auto users = contents_after<std::string>(events, user_change);
  auto parity = [](const std::string& city) { return std::to_string((city.back() - '0') % 2); };
  pipeline p{"tables"};
  std::vector<table_change<std::string, int64_t>> by_city, by_parity;
  auto table = users_table(p, events);
  table
    .group_by([](const std::string& user, const std::string& city) {
      return std::pair{city, user};
    })
    .count()
    .to_stream()
    .sink(collect(by_city));
  table
    .group_by([&](const std::string& user, const std::string& city) {
      return std::pair{parity(city), user};
    })
    .count()
    .to_stream()
    .sink(collect(by_parity));
  test::temp_dir state;
  runtime rt{test::recovery_config(state)};
  auto error = rt.run(p);
  INFO(describe(error));
  REQUIRE_FALSE(error);
  check_changelog(by_city, users_per_city(
                             users, [](auto&) { return true; }, std::identity{}));
  check_changelog(by_parity, users_per_city(
                               users, [](auto&) { return true; }, parity));
}

TEST_CASE("a grouped aggregate adds and subtracts each row's value as rows change") {
  constexpr uint64_t events = 5'000;
  auto accounts = contents_after<int64_t>(events, account_change);
  std::map<std::string, int64_t> expected; // the sum of balances per last digit of the user
  for (const auto& [user, balance] : accounts)
    expected[user.substr(user.size() - 1)] += balance;
  for (uint32_t parallelism : {1u, 2u, 4u}) {
    INFO("parallelism " << parallelism);
    auto sums = run_collecting<table_change<std::string, int64_t>>(parallelism, [&](pipeline& p) {
      return accounts_table(p, events)
        .group_by([](const std::string& user, const int64_t& balance) {
          return std::pair{user.substr(user.size() - 1), balance};
        })
        .aggregate(
          int64_t{0}, [](int64_t& sum, const int64_t& b) { sum += b; },
          [](int64_t& sum, const int64_t& b) { sum -= b; })
        .to_stream();
    });
    check_changelog(sums, expected);
  }
}

namespace {

/// "city:balance", with "-" for a side without a row.
std::string joined_value(const std::string* city, const int64_t* balance) {
  return (city ? *city : "-") + ":" + (balance ? std::to_string(*balance) : "-");
}

/// The join of the users and accounts tables of kind `kind` after `events` changes each.
std::map<std::string, std::string> join_reference(uint64_t events, join_kind kind) {
  auto users = contents_after<std::string>(events, user_change);
  auto accounts = contents_after<int64_t>(events, account_change);
  std::map<std::string, std::string> result;
  for (const auto& [user, city] : users) {
    auto a = accounts.find(user);
    if (a != accounts.end())
      result[user] = joined_value(&city, &a->second);
    else if (kind != join_kind::inner)
      result[user] = joined_value(&city, nullptr);
  }
  if (kind == join_kind::full)
    for (const auto& [user, balance] : accounts)
      if (!users.contains(user))
        result[user] = joined_value(nullptr, &balance);
  return result;
}

/// The join of kind `kind` of the users and accounts tables; with `parallelism` (0: the
/// runtime's default) for both tables and the join.
auto joined_tables(pipeline& p, uint64_t events, join_kind kind, uint32_t parallelism = 0,
                   double rate = 0,
                   const supervision& supervise = supervision::operator_default()) {
  auto users = users_table(p, events, rate, supervise);
  auto accounts = accounts_table(p, events, rate, supervise);
  if (parallelism > 0) {
    users.parallelism(parallelism);
    accounts.parallelism(parallelism);
  }
  auto joined = [&] {
    switch (kind) {
      case join_kind::inner:
        return users.join(
          accounts, [](const std::string& c, const int64_t& b) { return joined_value(&c, &b); });
      case join_kind::left:
        return users.left_join(
          accounts, [](const std::string& c, const int64_t* b) { return joined_value(&c, b); });
      default:
        return users.full_join(
          accounts, [](const std::string* c, const int64_t* b) { return joined_value(c, b); });
    }
  }();
  joined.name("join").supervision(supervise);
  if (parallelism > 0)
    joined.parallelism(parallelism);
  return joined.to_stream();
}

} // namespace

TEST_CASE("a table join emits each joined row's change, retracting the row it replaces") {
  constexpr uint64_t events = 5'000;
  for (auto kind : {join_kind::inner, join_kind::left, join_kind::full}) {
    auto expected = join_reference(events, kind);
    for (uint32_t parallelism : {1u, 2u, 4u}) {
      INFO("kind " << static_cast<int>(kind) << ", parallelism " << parallelism);
      auto changes = run_collecting<table_change<std::string, std::string>>(
        parallelism, [&](pipeline& p) { return joined_tables(p, events, kind); });
      check_changelog(changes, expected);
    }
  }
}

TEST_CASE("killed table instances restart alone and every changelog stays consistent and exact") {
  constexpr uint64_t events = 30'000;
  test::temp_dir state;
  std::vector<table_change<std::string, std::string>> out;
  auto error = test::run_killing(
    "tables-kill", state,
    [&](pipeline& p, const supervision& tolerant) {
      joined_tables(p, events, join_kind::full, 2, 20'000, tolerant).sink(collect(out));
    },
    {{"user_table", 0},
     {"join", 1},
     {"users", 0},
     {"join", 0},
     {"account_table", 1},
     {"user_table", 1}});
  INFO(describe(error));
  REQUIRE_FALSE(error);
  check_changelog(out, join_reference(events, join_kind::full));
}

namespace {

/// "key old new", with "-" for a value that is not there.
std::string line_of(const table_change<std::string, int64_t>& c) {
  auto text = [](const std::optional<int64_t>& v) { return v ? std::to_string(*v) : "-"; };
  return c.key + " " + text(c.old_value) + " " + text(c.new_value);
}

table_change<std::string, int64_t> change_of_line(const std::string& line) {
  std::istringstream fields{line};
  std::string key, before, after;
  fields >> key >> before >> after;
  auto value = [](const std::string& v) {
    return v == "-" ? std::nullopt : std::optional<int64_t>{std::stoll(v)};
  };
  return {key, value(before), value(after)};
}

} // namespace

TEST_CASE(
  "a grouped count stopped as by a crash and restored with other parallelism goes on with "
  "every changelog consistent and exact") {
  constexpr uint64_t events = 20'000;
  test::temp_dir dir;
  auto error = test::run_stopped_and_restored(
    "tables-restore", test::recovery_config(dir),
    [&](pipeline& p, double rate) {
      auto counts = users_table(p, events, rate)
                      .parallelism(rate > 0 ? 2 : 3)
                      .group_by([](const std::string& user, const std::string& city) {
                        return std::pair{city, user};
                      })
                      .count()
                      .parallelism(rate > 0 ? 3 : 1);
      counts.to_stream().map(line_of).sink(write_file(dir.file("out.txt")));
    },
    10'000);
  INFO(describe(error));
  REQUIRE_FALSE(error);
  std::vector<table_change<std::string, int64_t>> changes;
  for (const auto& line : test::sink_output_lines(dir, "out.txt"))
    changes.push_back(change_of_line(line));
  auto users = contents_after<std::string>(events, user_change);
  check_changelog(changes, users_per_city(
                             users, [](auto&) { return true; }, std::identity{}));
}

TEST_CASE("a stream of records as a table keeps each key's latest record") {
  using row = std::pair<std::string, int>;
  std::vector<row> rows{{"a", 1}, {"b", 2}, {"a", 3}, {"a", 3}, {"b", 4}, {"c", 5}};
  std::vector<table_change<std::string, row>> out;
  pipeline p{"records-table"};
  p.source(from_collection(rows)).key_by(&row::first).to_table().to_stream().sink(collect(out));
  runtime rt{test::small_batches()};
  REQUIRE_FALSE(rt.run(p));
  // The second {"a", 3} sets the value the key had, and comes out too.
  CHECK(out.size() == 6);
  check_changelog(out,
                  std::map<std::string, row>{{"a", {"a", 3}}, {"b", {"b", 4}}, {"c", {"c", 5}}});
}

namespace {

/// A change of an order: its user (none: the order is deleted).
using order_row = std::pair<std::string, std::optional<std::string>>;

order_row order_change(uint64_t i) {
  auto order = "o" + std::to_string(i % 2 + 2 * (((i / 2) * 6007) % 200));
  if (i % 13 == 7)
    return {order, std::nullopt};
  return {order, user_of(i * 5, 7919)};
}

auto orders_table(pipeline& p, uint64_t events) {
  auto orders = p.source(generate<order_row>(order_change, {.count = events}));
  orders.parallelism(2).name("orders");
  return orders.key_by(&order_row::first).to_table([](const order_row& r) { return r.second; });
}

/// Each order's city (its user's), or "-" where the user is missing and `left` keeps the order.
std::map<std::string, std::string> city_of_orders(uint64_t events, bool left) {
  auto orders = contents_after<std::string>(events, order_change);
  auto users = contents_after<std::string>(events, user_change);
  std::map<std::string, std::string> result;
  for (const auto& [order, user] : orders) {
    auto u = users.find(user);
    if (u != users.end())
      result[order] = user + "@" + u->second;
    else if (left)
      result[order] = user + "@-";
  }
  return result;
}

} // namespace

TEST_CASE(
  "a foreign-key join follows changes of both rows and moves a row whose foreign key changed") {
  constexpr uint64_t events = 5'000;
  for (bool left : {false, true}) {
    auto expected = city_of_orders(events, left);
    for (uint32_t parallelism : {1u, 2u, 4u}) {
      INFO((left ? "left join" : "join") << ", parallelism " << parallelism);
      auto changes =
        run_collecting<table_change<std::string, std::string>>(parallelism, [&](pipeline& p) {
          auto orders = orders_table(p, events);
          auto users = users_table(p, events);
          auto user_of_order = [](const std::string& user) { return user; };
          if (left)
            return orders
              .left_join(users, user_of_order,
                         [](const std::string& user, const std::string* city) {
                           return user + "@" + (city ? *city : "-");
                         })
              .to_stream();
          return orders
            .join(
              users, user_of_order,
              [](const std::string& user, const std::string& city) { return user + "@" + city; })
            .to_stream();
        });
      check_changelog(changes, expected);
    }
  }
}

namespace {

/// A click of a user, at time_of_click(i).
using click = std::pair<std::string, int64_t>;

click click_of(uint64_t i) {
  return {user_of(i * 3, 7919), static_cast<int64_t>(i)};
}

/// Event times out of order within 40 ms.
timestamp time_of_change(uint64_t i) {
  return static_cast<timestamp>(i) - static_cast<timestamp>((i * 7919) % 40);
}

timestamp time_of_click(uint64_t i) {
  return static_cast<timestamp>(i) + 1 - static_cast<timestamp>((i * 104729) % 40);
}

/// Each click with its user's city at the click's time, "-" if none and `left` keeps it.
std::map<int64_t, std::string> city_at_clicks(uint64_t events, bool left) {
  std::map<std::string, std::vector<std::tuple<timestamp, uint64_t, std::optional<std::string>>>>
    versions;
  for (uint64_t i = 0; i < events; ++i) {
    auto [user, city] = user_change(i);
    versions[user].emplace_back(time_of_change(i), i, city);
  }
  for (auto& [user, v] : versions)
    std::sort(v.begin(), v.end());
  std::map<int64_t, std::string> result;
  for (uint64_t i = 0; i < events; ++i) {
    auto [user, id] = click_of(i);
    auto t = time_of_click(i);
    std::optional<std::string> city;
    for (const auto& [time, index, value] : versions[user])
      if (time <= t)
        city = value;
    if (city)
      result[id] = *city;
    else if (left)
      result[id] = "-";
  }
  return result;
}

} // namespace

TEST_CASE("a temporal join meets each record with its key's value at the record's event time") {
  constexpr uint64_t events = 5'000;
  for (bool left : {false, true}) {
    auto expected = city_at_clicks(events, left);
    for (uint32_t parallelism : {1u, 2u, 4u}) {
      INFO((left ? "left join" : "join") << ", parallelism " << parallelism);
      using result = std::pair<int64_t, std::string>;
      auto got = run_collecting<result>(parallelism, [&](pipeline& p) {
        auto users = p.source(
          generate<user_row>(user_change, {.count = events, .out_of_orderness = 40ms},
                             [](uint64_t i, const user_row&) { return time_of_change(i); }));
        users.parallelism(2).name("users");
        auto cities =
          users.key_by(&user_row::first).to_table([](const user_row& r) { return r.second; });
        auto clicks =
          p.source(generate<click>(click_of, {.count = events, .out_of_orderness = 40ms},
                                   [](uint64_t i, const click&) { return time_of_click(i); }));
        clicks.parallelism(2).name("clicks");
        auto keyed = clicks.key_by(&click::first);
        if (left)
          return keyed.left_temporal_join(cities, [](const click& c, const std::string* city) {
            return result{c.second, city ? *city : "-"};
          });
        return keyed.temporal_join(cities, [](const click& c, const std::string& city) {
          return result{c.second, city};
        });
      });
      std::map<int64_t, std::string> joined;
      size_t repeated = 0;
      for (const auto& [id, city] : got)
        if (!joined.emplace(id, city).second)
          ++repeated;
      CHECK(repeated == 0);
      CHECK(joined.size() == expected.size());
      bool identical = joined == expected; // not printed: thousands of clicks
      CHECK(identical);
    }
  }
}

TEST_CASE("killed foreign-key join stages restart alone and the joined changelog stays exact") {
  constexpr uint64_t events = 30'000;
  test::temp_dir state;
  std::vector<table_change<std::string, std::string>> out;
  auto error = test::run_killing(
    "fk-join-kill", state,
    [&](pipeline& p, const supervision& tolerant) {
      auto orders = p.source(generate<order_row>(order_change, {.count = events, .rate = 20'000}));
      orders.parallelism(2).name("orders").supervision(tolerant);
      auto users = p.source(generate<user_row>(user_change, {.count = events, .rate = 20'000}));
      users.parallelism(2).name("users").supervision(tolerant);
      auto order_table =
        orders.key_by(&order_row::first).to_table([](const order_row& r) { return r.second; });
      order_table.name("order_table").parallelism(2).supervision(tolerant);
      auto user_table =
        users.key_by(&user_row::first).to_table([](const user_row& r) { return r.second; });
      user_table.name("user_table").parallelism(2).supervision(tolerant);
      auto joined = order_table.left_join(
        user_table, [](const std::string& user) { return user; },
        [](const std::string& user, const std::string* city) {
          return user + "@" + (city ? *city : "-");
        });
      joined.name("join").parallelism(2).supervision(tolerant);
      joined.to_stream().sink(collect(out));
    },
    {{"join/lookup", 0},
     {"join", 1},
     {"join/subscribe", 0},
     {"user_table", 1},
     {"join/lookup", 0},
     {"join", 0},
     {"join/subscribe", 0}});
  INFO(describe(error));
  REQUIRE_FALSE(error);
  check_changelog(out, city_of_orders(events, true));
}
