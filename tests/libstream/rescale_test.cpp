// Restoring a job with other parallelism (its keyed state moved by key group, source splits and
// output files dealt out), and state directories that belong to another operator graph

#include <catch2/catch.hpp>

#include <filesystem>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "sluice/checkpoint_record.hpp"
#include "sluice/state_layout.hpp"

#include "support/test_support.hpp"

using namespace sluice;
using namespace std::chrono_literals;

namespace {

constexpr uint64_t records = 24'000;
constexpr int keys = 12;

/// Checks a changelog of "key count" lines: each key counted to records / keys, every count
/// from 1 up exactly once.
void check_exact_counts(const std::vector<std::string>& lines) {
  std::map<int64_t, std::set<int64_t>> counts;
  size_t repeated = 0;
  for (const auto& line : lines) {
    std::istringstream fields{line};
    int64_t key = 0;
    int64_t count = 0;
    fields >> key >> count;
    if (!counts[key].insert(count).second)
      ++repeated;
  }
  CHECK(repeated == 0);
  REQUIRE(counts.size() == keys);
  for (const auto& [key, seen] : counts) {
    INFO("key " << key);
    CHECK(seen.size() == records / keys);
    CHECK(*seen.begin() == 1);
    CHECK(*seen.rbegin() == static_cast<int64_t>(records / keys));
  }
}

std::string counted(const std::pair<int64_t, int64_t>& kv) {
  return std::to_string(kv.first) + " " + std::to_string(kv.second);
}

} // namespace

TEST_CASE("a keyed count restored with parallelism 2, then 3, then 1 counts every record once") {
  test::temp_dir dir;
  std::ofstream{dir.file("keys.txt")} << [] {
    std::string text;
    for (uint64_t i = 0; i < records; ++i)
      text += std::to_string(i % keys) + "\n";
    return text;
  }();
  auto config = test::small_batches();
  config.mode = execution_mode::streaming;
  config.state_dir = (dir.path() / "state").string();
  config.checkpoint_interval = 10ms;
  auto record_path = (dir.path() / "state" / "rescale" / "checkpoints").string();

  // The same job from a generator or a text file; `slow` keeps it running for a while.
  bool from_file = false;
  auto make = [&](pipeline& p, uint32_t parallelism, bool slow) {
    auto keyed = [&] {
      auto pause = [slow](int64_t k) {
        if (slow && k == 0)
          std::this_thread::sleep_for(1ms);
        return k;
      };
      if (from_file)
        return p.source(text_file(dir.file("keys.txt")))
          .parallelism(parallelism)
          .map([pause](const std::string& line) { return pause(std::stoll(line)); })
          .parallelism(parallelism);
      return p
        .source(generate<int64_t>([](uint64_t i) { return static_cast<int64_t>(i % keys); },
                                  {.count = records}))
        .parallelism(parallelism)
        .map(pause)
        .parallelism(parallelism);
    }();
    keyed.key_by([](int64_t k) { return k; })
      .count()
      .name("count")
      .parallelism(parallelism)
      .map(counted)
      .parallelism(parallelism)
      .sink(write_file(dir.file("out.txt")))
      .parallelism(parallelism);
  };
  SECTION("from a generator") {}
  SECTION("from a text file") {
    from_file = true;
  }

  uint64_t completed = 0;
  for (uint32_t parallelism : {2u, 3u}) {
    pipeline p{"rescale"};
    make(p, parallelism, true);
    test::stop_after_checkpoints(p, config, completed + 3);
    auto record = checkpoint_record::load(record_path);
    CHECK(record.completed >= completed + 3);
    completed = record.completed;
    // The keyed state now lies in one directory per instance of this run.
    auto state = dir.path() / "state" / "rescale";
    CHECK(std::filesystem::exists(state / instance_directory_name("count", parallelism - 1)));
    CHECK_FALSE(std::filesystem::exists(state / instance_directory_name("count", parallelism)));
  }
  pipeline p{"rescale"};
  make(p, 1, false);
  runtime rt{config};
  REQUIRE_FALSE(rt.run(p));
  auto state = dir.path() / "state" / "rescale";
  CHECK_FALSE(std::filesystem::exists(state / instance_directory_name("count", 1)));
  check_exact_counts(test::sink_output_lines(dir, "out.txt"));
}

TEST_CASE("a state directory written by another operator graph is a clear error") {
  test::temp_dir dir;
  auto config = test::small_batches();
  config.state_dir = dir.path().string();
  auto run = [&](bool doubled) {
    pipeline p{"graph"};
    std::vector<std::pair<int64_t, int64_t>> out;
    auto s = p.source(from_collection(std::vector<int64_t>{1, 2, 2, 3}));
    if (doubled)
      s = s.map([](int64_t x) { return x * 2; }).name("double");
    s.key_by([](int64_t x) { return x; }).count().sink(collect(out));
    runtime rt{config};
    return rt.run(p);
  };
  REQUIRE_FALSE(run(false));
  auto manifest = dir.file("graph/graph");
  auto before = test::read_lines(manifest);
  auto err = run(true);
  REQUIRE(err);
  CHECK_THAT(describe(err), Catch::Contains(dir.file("graph"))
                              && Catch::Contains("another operator graph")
                              && Catch::Contains("'double'"));
  // Nothing was changed: the first graph still runs on its state.
  CHECK(test::read_lines(manifest) == before);
  CHECK_FALSE(run(false));
}

TEST_CASE("a state directory written with another max_parallelism is a clear error") {
  test::temp_dir dir;
  auto run = [&](uint32_t max_parallelism) {
    auto config = test::small_batches();
    config.state_dir = dir.path().string();
    config.max_parallelism = max_parallelism;
    pipeline p{"groups"};
    std::vector<std::pair<int64_t, int64_t>> out;
    p.source(from_collection(std::vector<int64_t>{1, 2, 2, 3}))
      .key_by([](int64_t x) { return x; })
      .count()
      .sink(collect(out));
    runtime rt{config};
    return rt.run(p);
  };
  REQUIRE_FALSE(run(128));
  auto err = run(64);
  REQUIRE(err);
  CHECK_THAT(describe(err),
             Catch::Contains("max_parallelism 128") && Catch::Contains(dir.file("groups")));
}

TEST_CASE("a rescale interrupted by a crash is finished by the next start") {
  // The state of a job at parallelism 2, moved to parallelism 3 in a copy of its directory;
  // the original then gets the state a crash in the middle of the swap leaves: the new
  // directories built and marked ready, one old directory already retired.
  test::temp_dir dir;
  auto config = test::small_batches();
  config.mode = execution_mode::streaming;
  config.checkpoint_interval = 10ms;
  auto make = [&](pipeline& p, uint32_t parallelism, double rate) {
    p.source(generate<int64_t>([](uint64_t i) { return static_cast<int64_t>(i % keys); },
                               {.count = records, .rate = rate}))
      .parallelism(parallelism)
      .key_by([](int64_t k) { return k; })
      .count()
      .name("count")
      .parallelism(parallelism)
      .map(counted)
      .parallelism(parallelism)
      .sink(write_file(dir.file("out.txt")))
      .parallelism(parallelism);
  };
  auto state = dir.path() / "state";
  config.state_dir = state.string();
  {
    pipeline p{"swap"};
    make(p, 2, 20'000);
    test::stop_after_checkpoints(p, config, 3);
  }
  auto pipeline_dir = state / "swap";
  auto checkpoint = checkpoint_record::load((pipeline_dir / "checkpoints").string()).completed;
  auto old_graph = graph_manifest::load((pipeline_dir / "graph").string());
  REQUIRE(old_graph);
  auto new_graph = *old_graph;
  std::string moved;
  for (auto& op : new_graph.operators) {
    op.parallelism = 3;
    moved += safe_path_component(op.name) + "\n";
  }
  auto copy = dir.path() / "copy";
  std::filesystem::copy(pipeline_dir, copy, std::filesystem::copy_options::recursive);
  prepare_state_directory(copy.string(), new_graph, checkpoint);

  auto build = pipeline_dir / ".rescale";
  std::filesystem::create_directories(build);
  for (const auto& entry : std::filesystem::directory_iterator{copy})
    if (entry.is_directory())
      std::filesystem::copy(entry.path(), build / entry.path().filename(),
                            std::filesystem::copy_options::recursive);
  std::ofstream{build / "operators"} << moved;
  new_graph.save((build / "graph").string());
  std::ofstream{build / "ready"};
  std::filesystem::create_directories(pipeline_dir / ".retired");
  auto count0 = instance_directory_name("count", 0);
  std::filesystem::rename(pipeline_dir / count0, pipeline_dir / ".retired" / count0);

  pipeline p{"swap"};
  make(p, 3, 0);
  runtime rt{config};
  REQUIRE_FALSE(rt.run(p));
  CHECK_FALSE(std::filesystem::exists(build));
  CHECK_FALSE(std::filesystem::exists(pipeline_dir / ".retired"));
  check_exact_counts(test::sink_output_lines(dir, "out.txt"));
}
