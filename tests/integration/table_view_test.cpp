// table_view: a changelog table's rows read from outside the job, by key from the instance that
// owns it and by scanning every instance, as of the job's last checkpoint; deleted keys are gone.

#include <catch2/catch.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <vector>

#include "sluice/all.hpp"
#include "sluice/keyed_stream.hpp"
#include "sluice/table.hpp"
#include "sluice/table_view.hpp"

#include "support/test_support.hpp"

using namespace sluice;
using namespace std::chrono_literals;

TEST_CASE("a table's rows are read from outside the job by key and by scan over its instances") {
  test::temp_dir dir;
  // Record i sets key i % 50 to i; every 7th is a tombstone deleting its key.
  std::vector<int64_t> input;
  std::map<int64_t, int64_t> expected;
  for (int64_t i = 0; i < 2'000; ++i) {
    input.push_back(i);
    if (i % 7 == 6)
      expected.erase(i % 50);
    else
      expected[i % 50] = i;
  }
  REQUIRE(expected.size() < 50);
  pipeline p{"view-table"};
  std::vector<table_change<int64_t, int64_t>> changes;
  p.source(from_collection(input))
    .key_by([](const int64_t& i) { return i % 50; })
    .to_table([](const int64_t& i) { return i % 7 == 6 ? std::nullopt : std::optional{i}; })
    .name("rows")
    .parallelism(2)
    .to_stream()
    .sink(collect(changes));
  auto config = test::small_batches();
  config.mode = execution_mode::streaming;
  config.state_dir = dir.path().string();
  config.checkpoint_interval = 10ms;
  {
    runtime rt{config};
    REQUIRE_FALSE(rt.run(p)); // ends with a final checkpoint
  }

  table_view<int64_t, int64_t> rows{config, "view-table", "rows", 2};
  size_t found = 0;
  for (int64_t key = 0; key < 50; ++key) {
    auto row = rows.get(key);
    auto want = expected.find(key);
    CHECK(row == (want == expected.end() ? std::nullopt : std::optional{want->second}));
    found += row.has_value();
  }
  CHECK(found == expected.size());
  auto all = rows.scan(1'000);
  CHECK(std::map<int64_t, int64_t>(all.begin(), all.end()) == expected);
  CHECK(all.size() == expected.size());
  CHECK(rows.scan(3).size() == 3);
  CHECK_THROWS_AS((table_view<int64_t, std::string>{config, "view-table", "rows", 2}.get(1)),
                  state_type_error);
  CHECK_THROWS_WITH((table_view<int64_t, int64_t>{config, "view-table", "no-such-table", 1}),
                    Catch::Contains("no-such-table"));
}
