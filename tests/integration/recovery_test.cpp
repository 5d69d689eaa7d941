// Supervision and recovery: instances killed or failing in the middle of a run restart from the
// last checkpoint, and the output is exactly that of a run without failures.

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "support/exact_counts.hpp"
#include "support/test_support.hpp"

using namespace sluice;
using namespace std::chrono_literals;
using sluice::test::changelog;
using sluice::test::check_ends_exact;
using sluice::test::key_of;

namespace {

/// words (2 instances, `rate` records/s in all) -> key_by -> count (2 instances, supervised by
/// `count_supervision`) -> collect.
void count_words(pipeline& p, changelog& out, uint64_t records, double rate,
                 const supervision& count_supervision = supervision::operator_default()) {
  p.source(generate<std::string>(key_of, {records, rate}))
    .parallelism(2)
    .name("words")
    .key_by([](const std::string& w) { return w; })
    .count()
    .parallelism(2)
    .name("count")
    .supervision(count_supervision)
    .sink(collect(out))
    .name("out");
}

/// The restart counter of each instance, by operator name and index.
std::map<std::pair<std::string, uint32_t>, uint64_t> restarts(const job& j) {
  std::map<std::pair<std::string, uint32_t>, uint64_t> result;
  for (const auto& s : j.inspect())
    result[{s.operator_name, s.instance}] = s.restarts;
  return result;
}

bool restarted(const job& j, const std::string& op, uint32_t index, uint64_t times) {
  return test::eventually([&] { return restarts(j)[{op, index}] >= times; });
}

} // namespace

namespace {

/// A running count_words job of 200'000 records that has completed two checkpoints.
struct running_count {
  static constexpr uint64_t records = 200'000;
  test::temp_dir state;
  changelog out;
  pipeline p{"recovery"};
  runtime rt{test::recovery_config(state)};
  caf::expected<job> j{caf::error{}};

  running_count() {
    count_words(p, out, records, 100'000);
    j = rt.start(p);
    REQUIRE(j);
    REQUIRE(test::wait_for_checkpoint(*j, 2));
  }

  void check_end() { check_ends_exact(*j, out, records); }
};

} // namespace

TEST_CASE("a killed instance of a keyed count restarts alone and the counts stay exact") {
  running_count run;
  auto& j = *run.j;
  REQUIRE_FALSE(j.kill("count", 1));
  REQUIRE(restarted(j, "count", 1, 1));
  for (const auto& [instance, n] : restarts(j)) {
    INFO(instance.first << " " << instance.second);
    CHECK(n == (instance == std::pair<std::string, uint32_t>{"count", 1} ? 1U : 0U));
  }
  run.check_end();
}

TEST_CASE("fault injection slows an instance down and lets it go again") {
  running_count run;
  auto& j = *run.j;
  auto batches_in = [&] {
    for (const auto& s : j.inspect())
      if (s.operator_name == "count" && s.instance == 0)
        return s.batches_in;
    return uint64_t{0};
  };
  // 20 ms per batch: at most 50 batches a second, where it handled hundreds.
  REQUIRE_FALSE(j.inject_fault("count", 0, {0, 20'000}));
  std::this_thread::sleep_for(100ms); // the fault arrived, and the batch in hand is done
  auto start = std::chrono::steady_clock::now();
  auto before = batches_in();
  std::this_thread::sleep_for(500ms);
  auto slowed = batches_in() - before;
  auto elapsed = std::chrono::steady_clock::now() - start;
  CHECK(slowed <= static_cast<uint64_t>(elapsed / 20ms) + 1);
  REQUIRE_FALSE(j.inject_fault("count", 0, {0, 0}));
  run.check_end();
}

TEST_CASE("an instance that fails again while it recovers is restarted again") {
  running_count run;
  auto& j = *run.j;
  REQUIRE_FALSE(j.kill("count", 0));
  REQUIRE(restarted(j, "count", 0, 1));
  REQUIRE_FALSE(j.kill("count", 0)); // most likely still replaying
  REQUIRE(restarted(j, "count", 0, 2));
  run.check_end();
}

TEST_CASE("an upstream instance that fails while it replays to a restarted one recovers too") {
  running_count run;
  auto& j = *run.j;
  REQUIRE_FALSE(j.kill("count", 1));
  REQUIRE_FALSE(j.kill("words", 0));
  REQUIRE(restarted(j, "count", 1, 1));
  REQUIRE(restarted(j, "words", 0, 1));
  run.check_end();
}

namespace {

/// A sink that takes 200 ms for each checkpoint: while it does, no checkpoint completes.
struct slow_checkpoint_sink {
  using input_type = uint64_t;
  using output_type = no_output;

  void on_batch(std::vector<record<uint64_t>>&, context<no_output>&) {}
  void on_checkpoint(uint64_t, context<no_output>&) { std::this_thread::sleep_for(200ms); }
};

} // namespace

TEST_CASE("retention is bounded by pausing the sources and recovery stays exact") {
  // Checkpoints come only when an instance's retention is full, and take 200 ms each for the
  // slow sink of a second flow: meanwhile the words instances would go on sending, and
  // retaining, at 50'000 records/s each, were the sources not paused.
  test::temp_dir state;
  constexpr uint64_t records = 200'000;
  constexpr uint64_t limit = 5'000;
  changelog out;
  pipeline p{"bounded-retention"};
  count_words(p, out, records, 100'000);
  p.source(generate<uint64_t>([](uint64_t i) { return i; }, {300, 100}))
    .name("ticks")
    .sink(slow_checkpoint_sink{});
  auto config = test::recovery_config(state);
  config.checkpoint_interval = 60s;
  config.retention_limit = limit;
  runtime rt{config};
  auto j = rt.start(p);
  REQUIRE(j);
  REQUIRE(test::wait_for_checkpoint(*j, 2));
  REQUIRE_FALSE(j->kill("count", 1));
  uint64_t peak = 0;
  while (!j->wait_for(10ms))
    for (const auto& s : j->inspect())
      peak = std::max(peak, s.peak_records_retained);
  // Past the limit, what was in flight still arrives: at most a slice of 8 batches from each
  // of the two sources, and what the credit of a count instance's two inputs held.
  INFO("peak retention " << peak);
  CHECK(peak > limit / 2);
  CHECK(peak <= limit + 2 * 8 * config.batch_size + 2 * config.input_buffer_limit);
  check_ends_exact(*j, out, records);
}

TEST_CASE("a poison record under the restart policy exhausts the restarts and fails clearly") {
  test::temp_dir state;
  changelog out;
  pipeline p{"poison"};
  p.source(generate<std::string>(key_of, {20'000, 0}))
    .map([](std::string w) {
      if (w == "k13")
        throw std::runtime_error("poison record " + w);
      return w;
    })
    .name("parse")
    .key_by([](const std::string& w) { return w; })
    .count()
    .sink(collect(out));
  runtime rt{test::recovery_config(state)};
  auto j = rt.start(p);
  REQUIRE(j);
  auto error = j->wait_for(60s);
  REQUIRE(error.has_value()); // no hang
  auto info = info_of(*error);
  REQUIRE(info);
  CHECK(info->code == errc::gave_up);
  CHECK(info->cause == errc::user_code);
  CHECK(info->pipeline == "poison");
  CHECK(info->operator_name == "parse");
  CHECK(info->instance == 0u);
  CHECK_THAT(info->message, Catch::Contains("more than 5 restarts within 60000 ms")
                              && Catch::Contains("poison record k13"));
}

TEST_CASE("an operator that gives up is restarted whole by its pipeline with exact counts") {
  auto strategy = GENERATE(restart_strategy::one_for_one, restart_strategy::rest_for_one,
                           restart_strategy::one_for_all);
  test::temp_dir state;
  constexpr uint64_t records = 150'000;
  changelog out;
  pipeline p{"escalation"};
  supervision operator_supervision;
  operator_supervision.intensity.max_restarts = 0; // the first failure escalates
  count_words(p, out, records, 100'000, operator_supervision);
  supervision pipeline_supervision;
  pipeline_supervision.strategy = strategy;
  pipeline_supervision.intensity.max_restarts = 3;
  p.supervision(pipeline_supervision);
  runtime rt{test::recovery_config(state)};
  auto j = rt.start(p);
  REQUIRE(j);
  REQUIRE(test::wait_for_checkpoint(*j, 2));
  REQUIRE_FALSE(j->kill("count", 1));
  REQUIRE(restarted(*j, "count", 0, 1)); // the whole operator restarted
  check_ends_exact(*j, out, records);
}

TEST_CASE("an operator that gives up fails the job when its pipeline may not restart it") {
  test::temp_dir state;
  changelog out;
  pipeline p{"no-restart"};
  supervision once;
  once.intensity.max_restarts = 1;
  p.source(generate<std::string>(key_of, {std::nullopt, 50'000}))
    .key_by([](const std::string& w) { return w; })
    .count()
    .name("count")
    .supervision(once)
    .sink(collect(out));
  runtime rt{test::recovery_config(state)};
  auto j = rt.start(p);
  REQUIRE(j);
  REQUIRE(test::wait_for_checkpoint(*j, 1));
  REQUIRE_FALSE(j->kill("count", 0));
  REQUIRE(restarted(*j, "count", 0, 1));
  REQUIRE_FALSE(j->kill("count", 0));
  auto error = j->wait_for(60s);
  REQUIRE(error.has_value());
  auto info = info_of(*error);
  REQUIRE(info);
  CHECK(info->code == errc::gave_up);
  CHECK(info->cause == errc::user_code);
  CHECK(info->operator_name == "count");
  CHECK(info->instance == 0u);
  CHECK_THAT(info->message, Catch::Contains("more than 1 restarts within 60000 ms")
                              && Catch::Contains("killed by fault injection"));
}

TEST_CASE("an operator whose failure policy is fail fails the job at its first failure") {
  test::temp_dir state;
  changelog out;
  pipeline p{"fail-fast"};
  p.source(generate<std::string>(key_of, {std::nullopt, 50'000}))
    .key_by([](const std::string& w) { return w; })
    .count()
    .name("count")
    .on_failure(failure_policy::fail)
    .sink(collect(out));
  runtime rt{test::recovery_config(state)};
  auto j = rt.start(p);
  REQUIRE(j);
  REQUIRE(test::wait_for_checkpoint(*j, 1));
  REQUIRE_FALSE(j->kill("count", 0));
  auto error = j->wait_for(60s);
  REQUIRE(error.has_value());
  auto info = info_of(*error);
  REQUIRE(info);
  CHECK(info->code == errc::user_code);
  CHECK(info->operator_name == "count");
  CHECK(info->instance == 0u);
}

TEST_CASE("fault injection names what it cannot find") {
  test::temp_dir state;
  changelog out;
  pipeline p{"faults"};
  count_words(p, out, 1'000, 0);
  runtime rt{test::recovery_config(state)};
  auto j = rt.start(p);
  REQUIRE(j);
  auto unknown = info_of(j->kill("nope", 0));
  REQUIRE(unknown);
  CHECK(unknown->code == errc::configuration);
  CHECK(unknown->subject == "nope");
  auto out_of_range = info_of(j->inject_fault("count", 7, {1, 0}));
  REQUIRE(out_of_range);
  CHECK(out_of_range->code == errc::configuration);
  CHECK(out_of_range->subject == "count");
  CHECK_THAT(out_of_range->message, Catch::Contains("no instance 7"));
  REQUIRE_FALSE(j->wait());
}
