// write_partitioned_files: each record into its partition's directory, one file per instance and
// checkpoint period, visible once its checkpoint completes; every line exactly once at
// parallelism 1 and 2, after instances of the sink are killed alone, and after a crash restored
// with lower parallelism; a partition outside the directory fails the job naming it.

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "sluice/all.hpp"
#include "sluice/operators/partitioned_file_sink.hpp"

#include "support/test_support.hpp"

using namespace sluice;

namespace {

/// Record i goes to partition "k=<i % 7>/m=<i % 3>".
std::string partition_of(const int64_t& i) {
  return "k=" + std::to_string(i % 7) + "/m=" + std::to_string(i % 3);
}

/// The lines of every finished file per partition, sorted; counts the files still in progress
/// and the files not named as finished ones.
struct tree {
  std::map<std::string, std::vector<std::string>> lines;
  size_t in_progress = 0;
  size_t strangers = 0;

  explicit tree(const std::filesystem::path& dir) {
    for (const auto& entry : std::filesystem::recursive_directory_iterator{dir}) {
      if (!entry.is_regular_file())
        continue;
      auto name = entry.path().filename().string();
      if (name.ends_with(".inprogress")) {
        ++in_progress;
        continue;
      }
      strangers += !name.starts_with("part-");
      auto partition = std::filesystem::relative(entry.path().parent_path(), dir).string();
      auto more = test::read_lines(entry.path().string());
      auto& l = lines[partition];
      l.insert(l.end(), more.begin(), more.end());
    }
    for (auto& [partition, l] : lines)
      std::sort(l.begin(), l.end());
  }
};

/// Records 0 to n - 1 as the sink should leave them.
std::map<std::string, std::vector<std::string>> expected(int64_t n) {
  std::map<std::string, std::vector<std::string>> out;
  for (int64_t i = 0; i < n; ++i)
    out[partition_of(i)].push_back(std::to_string(i));
  for (auto& [partition, l] : out)
    std::sort(l.begin(), l.end());
  return out;
}

void check_tree(const std::filesystem::path& dir, int64_t n) {
  tree written{dir};
  CHECK(written.in_progress == 0);
  CHECK(written.strangers == 0);
  CHECK(written.lines.size() == 21);
  bool identical = written.lines == expected(n); // not printed: thousands of lines
  CHECK(identical);
}

/// `n` records at `rate` per second (0: full speed) from 2 generator instances, rebalanced to
/// the sink "out" at `parallelism` writing into `dir`.
void write_job(pipeline& p, int64_t n, double rate, uint32_t parallelism, const std::string& dir,
               const supervision& tolerant = supervision::operator_default()) {
  p.source(generate<int64_t>([](uint64_t i) { return static_cast<int64_t>(i); },
                             {.count = static_cast<uint64_t>(n), .rate = rate}))
    .parallelism(2)
    .name("numbers")
    .supervision(tolerant)
    .rebalance()
    .sink(write_partitioned_files(dir, partition_of))
    .name("out")
    .parallelism(parallelism)
    .supervision(tolerant);
}

} // namespace

TEST_CASE("partitioned files hold each record once in its partition at parallelism 1 and 2") {
  constexpr int64_t n = 20'000;
  for (uint32_t parallelism : {1u, 2u}) {
    INFO("parallelism " << parallelism);
    test::temp_dir state, out;
    pipeline p{"partitioned"};
    write_job(p, n, 0, parallelism, out.file("tree"));
    runtime rt{test::recovery_config(state)};
    REQUIRE_FALSE(rt.run(p));
    check_tree(out.file("tree"), n);
  }
}

TEST_CASE("partitioned files stay exact when sink instances are killed alone mid-run") {
  constexpr int64_t n = 60'000;
  test::temp_dir state, out;
  auto error = test::run_killing("partitioned-kill", state,
                                 [&](pipeline& p, const supervision& tolerant) {
                                   write_job(p, n, 30'000, 2, out.file("tree"), tolerant);
                                 },
                                 {{"out", 0}, {"out", 1}, {"out", 1}, {"out", 0}});
  INFO(describe(error));
  REQUIRE_FALSE(error);
  check_tree(out.file("tree"), n);
}

TEST_CASE(
  "partitioned files stopped as by a crash and restored with one instance fewer stay exact") {
  constexpr int64_t n = 30'000;
  test::temp_dir state, out;
  auto error = test::run_stopped_and_restored(
    "partitioned-restore", test::recovery_config(state),
    [&](pipeline& p, double rate) { write_job(p, n, rate, rate > 0 ? 2 : 1, out.file("tree")); });
  INFO(describe(error));
  REQUIRE_FALSE(error);
  check_tree(out.file("tree"), n);
}

TEST_CASE("a partition outside the output directory fails the job naming it") {
  test::temp_dir out;
  pipeline p{"partitioned-bad"};
  p.source(from_collection(std::vector<std::string>{"a", "../escape"}))
    .sink(write_partitioned_files(out.file("tree"), [](const std::string& s) { return s; }))
    .name("out");
  runtime rt{test::small_batches()};
  auto error = rt.run(p);
  REQUIRE(error);
  CHECK_THAT(describe(error), Catch::Contains("not '../escape'"));
  CHECK_FALSE(std::filesystem::exists(out.path() / "escape"));
}
