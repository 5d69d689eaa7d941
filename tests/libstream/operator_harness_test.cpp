// test --push / watermark / snapshot / restore--> operator_harness --> one operator, no actors

#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "sluice/operators/aggregate.hpp"
#include "sluice/operators/map.hpp"
#include "sluice/operators/reduce.hpp"
#include "sluice/testing/operator_harness.hpp"

using sluice::context;
using sluice::record;
using sluice::timestamp;
using sluice::testing::operator_harness;

namespace {

/// Counts words in keyed state and emits the running count stamped with the record's time;
/// on a watermark, emits how many words it saw before it.
class word_counter {
public:
  using input_type = std::string;
  using output_type = std::pair<std::string, int64_t>;

  void open(context<output_type>& ctx) {
    counts_ = ctx.state().table<std::string, int64_t>("counts");
  }

  void on_batch(std::vector<record<std::string>>& records, context<output_type>& ctx) {
    for (auto& r : records) {
      auto& n = counts_->upsert(r.value);
      ++n;
      ++seen_;
      ctx.emit({r.value, n}, r.time);
    }
  }

  void on_watermark(timestamp time, context<output_type>& ctx) {
    ctx.emit({"seen before " + std::to_string(time), seen_}, time);
  }

private:
  std::shared_ptr<sluice::keyed_table<std::string, int64_t>> counts_;
  int64_t seen_ = 0;
};

using count = std::pair<std::string, int64_t>;

} // namespace

TEST_CASE("the harness runs an operator by hand and shows its output with timestamps") {
  operator_harness<word_counter> h{word_counter{}};
  h.push("a", 10);
  h.push({{"b", 11}, {"a", 12}});
  REQUIRE(h.output().size() == 3);
  CHECK(h.output()[2].value == count{"a", 2});
  CHECK(h.output()[2].time == 12);
  CHECK(h.keyed_state<std::string, int64_t>("counts", "a") == 2);
  CHECK_FALSE(h.keyed_state<std::string, int64_t>("counts", "z"));
}

TEST_CASE("the harness passes a watermark on only when it advances") {
  operator_harness<word_counter> h{word_counter{}};
  h.push("a", 1);
  h.push_watermark(5);
  h.push_watermark(5);
  h.push_watermark(3);
  CHECK(h.watermark() == 5);
  auto values = h.take_values();
  CHECK(values == std::vector<count>{{"a", 1}, {"seen before 5", 1}});
  CHECK(h.output().empty());
}

TEST_CASE("a snapshot restored into a fresh instance brings back its keyed state only") {
  operator_harness<word_counter> h{word_counter{}};
  h.push("a", 1);
  h.push("a", 2);
  auto id = h.snapshot();
  h.push("a", 3); // lost with the instance
  h.restore(word_counter{}, id);
  h.take_values();
  h.push("a", 4);
  CHECK(h.take_values() == std::vector<count>{{"a", 3}});
}

TEST_CASE("the harness drives Sluice's own operators, in batch mode too") {
  auto key = [](const std::string& w) { return w; };
  auto concat = [](std::string a, const std::string& b) { return a + b; };
  auto fold = sluice::reduce_function<std::string, decltype(concat)>{concat};
  using aggregate = sluice::op::aggregate<std::string, decltype(key), decltype(fold)>;
  operator_harness<aggregate> h{aggregate{key, fold, "reduce"},
                                {.batch_mode = true, .state_dir = {}}};
  h.push({{"x", 1}, {"y", 2}, {"x", 3}});
  CHECK(h.output().empty()); // batch mode: results at the end
  h.end_input();
  auto results = h.take_values();
  std::sort(results.begin(), results.end());
  CHECK(results == std::vector<std::pair<std::string, std::string>>{{"x", "xx"}, {"y", "y"}});

  auto twice = [](int v) { return 2 * v; };
  operator_harness<sluice::op::map<int, decltype(twice)>> m{
    sluice::op::map<int, decltype(twice)>{twice}};
  m.push({{1, 7}, {2, 8}});
  REQUIRE(m.output().size() == 2);
  CHECK(m.output()[1].value == 4);
  CHECK(m.output()[1].time == 8);
}
