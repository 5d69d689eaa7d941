// The read-only view of an instance's keyed state: after a job ended, and while it runs

#include <catch2/catch.hpp>

#include <map>

#include "sluice/state_view.hpp"

#include "support/test_support.hpp"

using namespace sluice;
using namespace std::chrono_literals;

namespace {

/// Sums values per key (x % 10) in value state "sum".
auto summing = [](int64_t x, keyed_context<int64_t, int64_t>& ctx) {
  auto sum = ctx.value<int64_t>("sum");
  sum.update(sum.value_or(0) + x);
  ctx.emit(x);
};

} // namespace

TEST_CASE("a state view reads an instance's keyed state as of its last checkpoint") {
  test::temp_dir dir;
  std::vector<int64_t> input;
  std::map<int64_t, int64_t> expected;
  for (int64_t x = 1; x <= 1000; ++x) {
    input.push_back(x);
    expected[x % 10] += x;
  }
  pipeline p{"view"};
  std::vector<int64_t> out;
  p.source(from_collection(input))
    .key_by([](int64_t x) { return x % 10; })
    .process<int64_t>(summing)
    .name("sum")
    .parallelism(2)
    .sink(collect(out));
  auto config = test::small_batches();
  config.mode = execution_mode::streaming;
  config.state_dir = dir.path().string();
  config.checkpoint_interval = 10ms;
  {
    runtime rt{config};
    REQUIRE_FALSE(rt.run(p)); // ends with a final checkpoint
  }

  std::map<int64_t, int64_t> seen;
  size_t entries = 0;
  for (uint32_t i = 0; i < 2; ++i) {
    state_view view{config, "view", "sum", i};
    auto tables = view.tables();
    auto sum = std::find_if(tables.begin(), tables.end(), [](auto& t) { return t.name == "sum"; });
    REQUIRE(sum != tables.end());
    CHECK_THAT(sum->type, Catch::Contains("keyed_table<long, long>"));
    CHECK(sum->bytes > 0);
    entries += sum->entries;
    auto all = view.scan<int64_t, int64_t>("sum", 1000);
    CHECK(all.size() == sum->entries);
    seen.insert(all.begin(), all.end());
    CHECK(view.scan<int64_t, int64_t>("sum", 2).size() == std::min<size_t>(2, sum->entries));

    auto owner = instance_of_key_group(key_group_of(int64_t{3}, 128), 2, 128);
    auto three = view.get<int64_t, int64_t>("sum", 3);
    if (owner == i)
      CHECK(three == expected[3]);
    else
      CHECK_FALSE(three);
    CHECK_THROWS_AS((view.get<int64_t, std::string>("sum", 3)), state_type_error);
    CHECK_THROWS_AS((view.get<int64_t, int64_t>("no such state", 3)), state_type_error);
  }
  CHECK(entries == expected.size());
  CHECK(seen == expected);

  auto missing = (dir.path() / "nowhere").string();
  CHECK_THROWS_WITH(state_view{missing}, Catch::Contains(missing));
}

TEST_CASE("a state view reads a live instance's state without stopping it") {
  test::temp_dir dir;
  pipeline p{"live"};
  std::vector<int64_t> out;
  p.source(generate<int64_t>([](uint64_t i) { return static_cast<int64_t>(i); },
                             {.count = 10'000'000, .rate = 20'000}))
    .key_by([](int64_t x) { return x % 10; })
    .process<int64_t>(summing)
    .name("sum")
    .sink(collect(out));
  auto config = test::small_batches();
  config.mode = execution_mode::streaming;
  config.state_dir = dir.path().string();
  config.checkpoint_interval = 10ms;
  runtime rt{config};
  auto job = rt.start(p);
  REQUIRE(job);
  REQUIRE(test::wait_for_checkpoint(*job, 2));
  state_view view{config, "live", "sum", 0};
  auto first = view.get<int64_t, int64_t>("sum", 0);
  REQUIRE(first);
  auto reached = job->checkpoints().back().id;
  REQUIRE(test::wait_for_checkpoint(*job, reached + 2));
  auto later = view.get<int64_t, int64_t>("sum", 0);
  REQUIRE(later);
  CHECK(*later > *first); // the view follows the checkpoints of the running instance
  job->cancel();
  CHECK(job->wait());
}
