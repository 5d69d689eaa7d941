// Event-time TTL of keyed state: expiry on read, sweeps before checkpoints, and expiry that
// carries over a restore

#include <catch2/catch.hpp>

#include <map>

#include "support/test_support.hpp"

using namespace sluice;
using namespace std::chrono_literals;

TEST_CASE("a TTL table hides expired entries at once and sweeps them when half the TTL passed") {
  timestamp now = 0;
  auto inner = std::make_shared<memory_table<int, timed_value<std::string>>>();
  ttl_table<int, std::string> table{inner, state_ttl{100ms}, [&] { return now; }};
  table.upsert(1) = "one";
  now = 60;
  table.upsert(2) = "two";
  now = 120; // key 1 expired (120 - 0 >= 100), key 2 not (120 - 60 < 100)
  CHECK(table.find(1) == nullptr);
  REQUIRE(table.find(2) != nullptr);
  CHECK(*table.find(2) == "two");
  // An update of an expired entry starts from a fresh value.
  table.upsert(3) = "three";
  now = 300;
  CHECK(table.upsert(3).empty());

  // The sweep removes what expired without being read.
  inner->upsert(4) = {"four", 150};
  inner->upsert(5) = {"five", 290};
  table.sweep_if_due();
  CHECK(inner->size() == 2); // 3 (updated at 300) and 5
  size_t visible = 0;
  table.for_each([&](const int&, const std::string&) { ++visible; });
  CHECK(visible == 2);
  // No second sweep before the clock advanced half the TTL.
  inner->upsert(6) = {"six", 0};
  now = 320;
  table.sweep_if_due();
  CHECK(inner->size() == 3);
  now = 350;
  table.sweep_if_due();
  CHECK(inner->size() == 2);
}

TEST_CASE("a TTL table's modify skips an expired value and refreshes a live one") {
  timestamp now = 0;
  auto inner = std::make_shared<memory_table<int, timed_value<std::string>>>();
  ttl_table<int, std::string> table{inner, state_ttl{100ms}, [&] { return now; }};
  table.upsert(1) = "one";
  table.upsert(2) = "two";
  auto append_x = [](std::string& v) {
    v += "x";
    return false;
  };
  now = 90;
  CHECK(table.modify(2, append_x)); // live: changed, and updated at 90
  now = 150;
  CHECK_FALSE(table.modify(1, append_x)); // expired at 100: none, and removed
  CHECK(inner->find(1) == nullptr);
  REQUIRE(table.find(2) != nullptr);
  CHECK(*table.find(2) == "twox");
  CHECK(table.modify(2, [](std::string&) { return true; })); // emptied: removed
  CHECK(table.find(2) == nullptr);
  CHECK_FALSE(table.modify(3, append_x));
}

TEST_CASE("keyed state with a TTL expires by event time, also across a restore") {
  // Record i has key i % 7 and event time 10 i ms, plus one second after every 1000 records:
  // within a block no key's state expires (TTL 500 ms), across a jump every key's does.
  constexpr uint64_t records = 12'000;
  constexpr int keys = 7;
  auto time_of = [](uint64_t i) { return static_cast<timestamp>(i * 10 + (i / 1000) * 1000); };
  std::vector<std::string> expected;
  {
    std::map<int, std::pair<uint64_t, timestamp>> last;
    for (uint64_t i = 0; i < records; ++i) {
      auto key = static_cast<int>(i % keys);
      auto previous = last.find(key);
      bool alive = previous != last.end() && time_of(i) - previous->second.second < 500;
      expected.push_back(std::to_string(i) + " "
                         + (alive ? std::to_string(previous->second.first) : "-"));
      last[key] = {i, time_of(i)};
    }
    std::sort(expected.begin(), expected.end());
  }

  test::temp_dir dir;
  auto make = [&](pipeline& p, double rate) {
    p.source(generate<uint64_t>([](uint64_t i) { return i; }, {.count = records, .rate = rate},
                                [&](uint64_t i, const uint64_t&) { return time_of(i); }))
      .key_by([](uint64_t i) { return static_cast<int>(i % keys); })
      .template process<std::string>([](uint64_t i, keyed_context<int, std::string>& ctx) {
        auto last = ctx.value<uint64_t>("last", state_ttl{500ms});
        auto previous = last.value();
        ctx.emit(std::to_string(i) + " " + (previous ? std::to_string(*previous) : "-"));
        last.update(i);
      })
      .sink(write_file(dir.file("out.txt")));
  };
  auto config = test::small_batches();
  config.mode = execution_mode::streaming;
  config.state_dir = (dir.path() / "state").string();
  config.checkpoint_interval = 10ms;
  SECTION("in one run") {
    pipeline p{"ttl"};
    make(p, 0);
    runtime rt{config};
    REQUIRE_FALSE(rt.run(p));
  }
  SECTION("stopped after checkpoints and restored") {
    REQUIRE_FALSE(test::run_stopped_and_restored("ttl", config, make));
  }
  auto lines = test::read_lines(dir.file("out.txt"));
  std::sort(lines.begin(), lines.end());
  CHECK(lines.size() == expected.size());
  bool identical = lines == expected; // not printed: 12 000 lines
  CHECK(identical);
}

TEST_CASE("keyed state asked for with another TTL than before is a clear error") {
  pipeline p{"ttl-clash"};
  std::vector<int> out;
  p.source(from_collection(std::vector<int>{1, 2, 3}))
    .key_by([](int x) { return x; })
    .process<int>([](int x, keyed_context<int, int>& ctx) {
      ctx.value<int>("x", state_ttl{1s}).update(x);
      ctx.value<int>("x", state_ttl{2s}).update(x);
    })
    .name("clash")
    .sink(collect(out));
  runtime rt{test::small_batches()};
  auto err = rt.run(p);
  auto info = info_of(err);
  REQUIRE(info);
  CHECK(info->code == errc::state);
  CHECK(info->operator_name == "clash");
  CHECK(info->subject == "x");
  CHECK_THAT(info->message, Catch::Contains("another TTL"));
}
