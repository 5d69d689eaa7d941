// The Nexmark queries of the nexmark example (examples/nexmark/), run as that program: each
// query's results equal a straightforward computation over the same generated events
// (support/nexmark_reference.hpp) at parallelism 1 and 2, when the events come from JSON lines the
// program wrote to a file or a Kafka topic, and when the program is killed with SIGKILL mid-run
// and restarted over its state; changelogs retract exactly the rows they hold; bad input fails
// naming what is wrong.

#include <catch2/catch.hpp>

#include <sys/wait.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "sluice/checkpoint_record.hpp"
#include "sluice/operators/kafka_client.hpp"

#include "support/build_paths.hpp"
#include "support/nexmark_reference.hpp"
#include "support/process.hpp"
#include "support/test_support.hpp"

using namespace sluice;
using namespace std::chrono_literals;
namespace reference = sluice::test::nexmark_reference;

#ifdef SLUICE_HAS_NEXMARK_EXAMPLE

namespace {

/// 50,000 events, 1,000 per second of event time: 50 s of auctions, enough for several windows
/// of every query.
nexmark::generator_config events_of(uint64_t seed, uint64_t events = 50'000) {
  return {.events = events, .event_rate = 1'000, .seed = seed};
}

/// The nexmark example's arguments for `query` over the events of `config`.
std::vector<std::string> arguments(const std::string& query,
                                   const nexmark::generator_config& config) {
  return {"--query",      query,
          "--events",     std::to_string(*config.events),
          "--event-rate", std::to_string(static_cast<uint64_t>(config.event_rate)),
          "--seed",       std::to_string(config.seed)};
}

/// Runs the nexmark example with `args`, its results into `dir`/out, at `parallelism`;
/// returns its exit status.
int run_example(std::vector<std::string> args, const test::temp_dir& dir, uint32_t parallelism) {
  args.insert(args.end(), {"--parallelism", std::to_string(parallelism), "--out", dir.file("out")});
  return test::wait_process(test::start_process(test::nexmark_example(), args));
}

/// The lines of `query` over `config` at `parallelism`, as its sink instances wrote them.
test::lines query_lines(const std::string& query, const nexmark::generator_config& config,
                        uint32_t parallelism) {
  test::temp_dir dir;
  REQUIRE(run_example(arguments(query, config), dir, parallelism) == 0);
  return test::sink_output_lines(dir, "out");
}

/// The final row per key of a changelog of lines "+I,<key>,<row>", "-U,<key>,<row>",
/// "+U,<key>,<row>", "-D,<key>,<row>" (the changes of one key in order); counts the changes
/// that do not fit what the key holds: an insert of a key that has a row, a retraction of a row
/// the key does not hold, an update not right after its retraction.
struct changelog {
  test::rows rows;
  size_t misfits = 0;

  explicit changelog(const test::lines& lines) {
    std::map<std::string, std::string> retracted; // key -> row of a -U awaiting its +U
    for (const auto& line : lines) {
      auto kind = line.substr(0, 2);
      auto comma = line.find(',', 3);
      auto key = line.substr(3, comma - 3);
      auto row = line.substr(comma + 1);
      auto held = rows.find(key);
      if (kind == "+I") {
        misfits += held != rows.end() || retracted.contains(key);
        rows[key] = row;
      } else if (kind == "+U") {
        misfits += held != rows.end() || !retracted.erase(key);
        rows[key] = row;
      } else {
        misfits += held == rows.end() || held->second != row;
        if (held != rows.end())
          rows.erase(held);
        if (kind == "-U")
          retracted[key] = row;
      }
    }
    misfits += retracted.size();
  }
};

/// The lines of the finished files of a directory tree by directory (relative to the tree),
/// sorted; counts the files that are not finished.
struct file_tree {
  std::map<std::string, test::lines> lines;
  size_t unfinished = 0;

  explicit file_tree(const std::filesystem::path& dir) {
    for (const auto& entry : std::filesystem::recursive_directory_iterator{dir}) {
      if (!entry.is_regular_file())
        continue;
      if (!entry.path().filename().string().starts_with("part-")) {
        ++unfinished;
        continue;
      }
      auto& l = lines[std::filesystem::relative(entry.path().parent_path(), dir).string()];
      auto more = test::read_lines(entry.path().string());
      l.insert(l.end(), more.begin(), more.end());
    }
    for (auto& [directory, l] : lines)
      l = test::sorted(std::move(l));
  }
};

void check_same(const file_tree& got, const std::map<std::string, test::lines>& expected) {
  CHECK(got.unfinished == 0);
  CHECK(got.lines.size() == expected.size());
  bool identical = got.lines == expected;
  CHECK(identical);
}

/// Compares lines or rows without printing thousands of them: the sizes, then whether they are
/// equal.
template <class Results>
void check_same(const Results& got, const Results& expected) {
  CHECK(got.size() == expected.size());
  bool identical = got == expected;
  CHECK(identical);
}

/// Query `query` at parallelism 1 and 2 equals `expected` (lines of appended results).
void check_appending(const std::string& query, const nexmark::generator_config& config,
                     const test::lines& expected) {
  REQUIRE_FALSE(expected.empty());
  for (uint32_t parallelism : {1u, 2u}) {
    INFO(query << " at parallelism " << parallelism);
    check_same(test::sorted(query_lines(query, config, parallelism)), expected);
  }
}

/// Query `query` at parallelism 1 and 2 ends with the rows of `expected`, by a changelog that
/// retracts exactly what it inserted.
void check_updating(const std::string& query, const nexmark::generator_config& config,
                    const test::rows& expected) {
  REQUIRE_FALSE(expected.empty());
  for (uint32_t parallelism : {1u, 2u}) {
    INFO(query << " at parallelism " << parallelism);
    changelog result{query_lines(query, config, parallelism)};
    CHECK(result.misfits == 0);
    check_same(result.rows, expected);
  }
}

} // namespace

TEST_CASE("Nexmark q0, q1, q2 and q14 pass, convert, select and label every bid as computed") {
  auto config = events_of(1);
  test::nexmark_events events{config};
  check_appending("q0", config, reference::q0(events));
  check_appending("q1", config, reference::q1(events));
  check_appending("q2", config, reference::q2(events));
  check_appending("q14", config, reference::q14(events));
}

TEST_CASE("Nexmark q3, q4 and q9 update their tables to the rows computed from all events") {
  auto config = events_of(2);
  test::nexmark_events events{config};
  check_updating("q3", config, reference::q3(events));
  check_updating("q4", config, reference::q4(events));
  check_updating("q9", config, reference::q9(events));
}

TEST_CASE("Nexmark q6 averages each seller's last 10 sales in the order the auctions closed") {
  auto config = events_of(8);
  test::nexmark_events events{config};
  check_appending("q6", config, reference::q6(events));
}

TEST_CASE("Nexmark q5, q7, q8 and q11 give the windows computed from all events") {
  auto config = events_of(3);
  test::nexmark_events events{config};
  check_appending("q5", config, reference::q5(events));
  check_appending("q7", config, reference::q7(events));
  check_appending("q8", config, reference::q8(events));
  check_appending("q11", config, reference::q11(events));
}

TEST_CASE("Nexmark q10 logs every bid into the directory of its day and minute") {
  auto config = events_of(9, 150'000); // 150 s: three minutes of bids
  test::nexmark_events events{config};
  auto expected = reference::q10(events);
  REQUIRE(expected.size() == 3);
  for (uint32_t parallelism : {1u, 2u}) {
    INFO("parallelism " << parallelism);
    test::temp_dir dir;
    REQUIRE(run_example(arguments("q10", config), dir, parallelism) == 0);
    check_same(file_tree{dir.file("out")}, expected);
  }
}

TEST_CASE("Nexmark q12 counts every bid once per bidder in 10-s windows of processing time") {
  auto config = events_of(4);
  test::nexmark_events events{config};
  std::map<int64_t, int64_t> expected;
  for (const auto& b : events.bids)
    ++expected[b.bidder];
  for (uint32_t parallelism : {1u, 2u}) {
    INFO("parallelism " << parallelism);
    std::map<int64_t, int64_t> counted;
    size_t misaligned = 0;
    for (const auto& line : query_lines("q12", config, parallelism)) {
      int64_t bidder = 0, count = 0;
      char start[32] = {}, end[32] = {};
      REQUIRE(std::sscanf(line.c_str(), "%ld,%ld,%31[^,],%31[^\n]", &bidder, &count, start, end)
              == 4);
      counted[bidder] += count;
      // A window starts and ends on a multiple of 10 s: "yyyy-MM-dd HH:mm:s0.000".
      misaligned +=
        std::string{start}.substr(18) != "0.000" || std::string{end}.substr(18) != "0.000";
    }
    CHECK(misaligned == 0);
    CHECK(counted == expected);
  }
}

TEST_CASE("Nexmark q13 joins each bid with its row of a side input read from a file") {
  auto config = events_of(5);
  test::nexmark_events events{config};
  std::map<int64_t, std::string> default_side;
  for (int64_t key = 0; key < 10'000; ++key)
    default_side[key] = std::to_string(key);
  check_appending("q13", config, reference::q13(events, default_side));

  // A side input with a row for some keys only: the bids of the others join nothing.
  test::temp_dir dir;
  std::map<int64_t, std::string> some;
  {
    std::ofstream file{dir.file("side.csv")};
    for (int64_t key = 0; key < 10'000; key += 3) {
      some[key] = "row " + std::to_string(key);
      file << key << "," << some[key] << "\n";
    }
  }
  auto expected = reference::q13(events, some);
  REQUIRE(expected.size() < events.bids.size());
  for (uint32_t parallelism : {1u, 2u}) {
    test::temp_dir out;
    auto args = arguments("q13", config);
    args.insert(args.end(), {"--side-input", dir.file("side.csv")});
    REQUIRE(run_example(args, out, parallelism) == 0);
    check_same(test::sorted(test::sink_output_lines(out, "out")), expected);
  }
}

TEST_CASE("Nexmark events written as JSON lines and read back give the same query results") {
  auto config = events_of(6);
  test::nexmark_events events{config};
  test::temp_dir dir;
  auto write = arguments("q0", config);
  write[0] = "--write-json";
  write[1] = dir.file("events.json");
  REQUIRE(test::wait_process(test::start_process(test::nexmark_example(), write)) == 0);
  REQUIRE(test::read_lines(dir.file("events.json")).size() == *config.events);
  for (uint32_t parallelism : {1u, 2u}) {
    INFO("parallelism " << parallelism);
    test::temp_dir out;
    REQUIRE(run_example({"--query", "q9", "--from-json", dir.file("events.json")}, out, parallelism)
            == 0);
    changelog result{test::sink_output_lines(out, "out")};
    CHECK(result.misfits == 0);
    check_same(result.rows, reference::q9(events));
  }
}

TEST_CASE("Nexmark events written to a Kafka topic and read back give the same query results") {
  kafka::mock_cluster kafka;
  kafka.create_topic("nexmark-events", 4);
  // librdkafka's mock cluster keeps only the newest 5 MB of a partition (and a producer may send
  // a run of messages to one): 10,000 events, about 4 MB, over 40 s of event time.
  nexmark::generator_config config{.events = 10'000, .event_rate = 250, .seed = 10};
  test::nexmark_events events{config};
  auto write = arguments("q0", config);
  write[0] = "--write-json";
  write[1] = "nexmark-events";
  write.insert(write.end(), {"--brokers", kafka.bootstrap()});
  REQUIRE(test::wait_process(test::start_process(test::nexmark_example(), write)) == 0);
  // The topic's partitions interleave as they are read: windows stay exact only with watermarks
  // per partition.
  for (uint32_t parallelism : {1u, 2u}) {
    INFO("parallelism " << parallelism);
    test::temp_dir out;
    REQUIRE(run_example(
              {"--query", "q5", "--from-json", "nexmark-events", "--brokers", kafka.bootstrap()},
              out, parallelism)
            == 0);
    check_same(test::sorted(test::sink_output_lines(out, "out")), reference::q5(events));
  }
}

TEST_CASE(
  "Nexmark queries killed with SIGKILL and restarted over their state give every result once") {
  auto config = events_of(7, 100'000);
  test::nexmark_events events{config};
  unsigned seed = 21;
  for (std::string query : {"q3", "q4", "q5", "q6", "q9", "q10", "q11"}) {
    INFO(query);
    test::temp_dir dir;
    auto state = dir.file("state");
    auto start = [&](double rate) {
      auto args = arguments(query, config);
      args.insert(args.end(), {"--parallelism", "2", "--out", dir.file("out"), "--state-dir", state,
                               "--rate", std::to_string(rate)});
      return test::start_process(test::nexmark_example(), args);
    };
    auto completed = [&] {
      return checkpoint_record::load(state + "/nexmark-" + query + "/checkpoints").completed;
    };
    // Killed runs make 10,000 events/s: the input lasts ten seconds of them, however fast the
    // build; each is killed within 300 ms of its first checkpoint.
    auto outcome = test::kill_after_checkpoints(
      3, [&] { return start(10'000); }, completed, 300ms, seed++);
    REQUIRE(outcome.kills == 3);
    REQUIRE(test::wait_process(start(0)) == 0);
    auto lines = query == "q10" ? test::lines{} : test::sorted(test::sink_output_lines(dir, "out"));
    if (query == "q10")
      check_same(file_tree{dir.file("out")}, reference::q10(events));
    else if (query == "q5")
      check_same(lines, reference::q5(events));
    else if (query == "q6")
      check_same(lines, reference::q6(events));
    else if (query == "q11")
      check_same(lines, reference::q11(events));
    else {
      changelog result{test::sink_output_lines(dir, "out")};
      CHECK(result.misfits == 0);
      check_same(result.rows, query == "q3"   ? reference::q3(events)
                              : query == "q4" ? reference::q4(events)
                                              : reference::q9(events));
    }
  }
}

/// What the nexmark example with `args` prints, and its exit status.
std::pair<std::string, int> example_says(const std::string& args) {
  auto* out = popen((test::nexmark_example() + " " + args + " 2>&1").c_str(), "r");
  REQUIRE(out);
  std::string text;
  char buffer[4096];
  while (auto n = fread(buffer, 1, sizeof buffer, out))
    text.append(buffer, n);
  auto status = pclose(out);
  return {text, WIFEXITED(status) ? WEXITSTATUS(status) : -1};
}

TEST_CASE("the nexmark example prints its usage when asked") {
  auto [help, help_status] = example_says("--help");
  CHECK(help_status == 0);
  CHECK_THAT(help, Catch::StartsWith("usage: nexmark --query qN"));
}

TEST_CASE("the nexmark example refuses an unknown query, a bad side input and a bad JSON line") {
  test::temp_dir dir;
  auto [unknown, unknown_status] = example_says("--query q99");
  CHECK(unknown_status == 2);
  CHECK_THAT(unknown, Catch::Contains("there is no Nexmark query 'q99'"));
  auto [rate, rate_status] = example_says("--query q1 --events ten");
  CHECK(rate_status == 2);
  CHECK_THAT(rate, Catch::Contains("--events expects a number, not 'ten'"));

  {
    std::ofstream file{dir.file("side.csv")};
    file << "1,one\nkey,two\n";
  }
  auto [side, side_status] = example_says("--query q13 --side-input " + dir.file("side.csv"));
  CHECK(side_status == 2);
  CHECK_THAT(side, Catch::Contains("side.csv:2") && Catch::Contains("\"key,two\""));

  {
    std::ofstream file{dir.file("events.json")};
    file << R"({"event_type": 2, "person": null, "auction": null})"
         << "\n";
  }
  auto [json, json_status] = example_says("--query q0 --from-json " + dir.file("events.json"));
  CHECK(json_status == 1);
  CHECK_THAT(json, Catch::Contains("needs its \"bid\""));
}

#else

TEST_CASE("Nexmark queries (needs the nexmark example: SLUICE_BUILD_EXAMPLES)") {
  test::skip("the examples are not built");
}

#endif
