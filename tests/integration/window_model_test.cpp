// tests/support/window_model.hpp's random records -> key_by -> windows of every kind (tumbling,
// sliding, session, count, sliding count) with allowed lateness -> results and late records
//
// Each kind's results and late records equal the model's reference at parallelism 1, 2 and 4,
// with window instances killed alone mid-run, and in a separate process killed with SIGKILL and
// restarted over its state.

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "sluice/checkpoint_record.hpp"

#include "support/build_paths.hpp"
#include "support/process.hpp"
#include "support/test_support.hpp"
#include "support/window_model.hpp"

using namespace sluice;
using namespace std::chrono_literals;
using test::window_kind;

namespace {

constexpr window_kind every_kind[] = {window_kind::tumbling, window_kind::sliding,
                                      window_kind::session, window_kind::count,
                                      window_kind::sliding_count};

/// Checks the lines a model job wrote against the model: the result that stands for every
/// window (for count windows, every result in order) and the late records, each once.
void check_window_model(const test::window_model& m, const std::vector<std::string>& result_lines,
                        const std::vector<std::string>& late_lines) {
  std::vector<int64_t> late;
  for (const auto& line : late_lines)
    late.push_back(std::stoll(line));
  std::sort(late.begin(), late.end());
  CHECK(late.size() == m.late.size());
  CHECK(std::set<int64_t>(late.begin(), late.end()) == m.late);

  if (m.kind == window_kind::count || m.kind == window_kind::sliding_count) {
    test::result_sequences got;
    for (const auto& text : result_lines) {
      auto [key, start, end, count, sum] = test::parse_line(text);
      got[key].emplace_back(count, sum);
    }
    CHECK(got.size() == m.sequences.size());
    bool identical = got == m.sequences; // not printed: thousands of results
    CHECK(identical);
    return;
  }
  test::final_results got;
  for (const auto& text : result_lines) {
    auto [key, start, end, count, sum] = test::parse_line(text);
    got[{key, start, end}] = {count, sum}; // a window's later results update its earlier ones
  }
  if (m.kind == window_kind::session) {
    // A session merged into a larger one later gave way to it.
    std::erase_if(got, [&](const auto& entry) {
      const auto& [key, start, end] = entry.first;
      return std::any_of(got.begin(), got.end(), [&](const auto& other) {
        const auto& [k2, s2, e2] = other.first;
        return k2 == key && s2 <= start && end <= e2 && (s2 != start || e2 != end);
      });
    });
  }
  CHECK(got.size() == m.finals.size());
  bool identical = got == m.finals; // not printed: thousands of windows
  CHECK(identical);
}

} // namespace

TEST_CASE("windows of every kind equal the model's reference at parallelism 1, 2 and 4") {
  auto config = test::small_batches();
  for (auto kind : every_kind)
    for (unsigned seed : {1u, 2u}) {
      auto model = test::make_window_model(kind, 20'000, 20, config.batch_size, seed);
      for (uint32_t parallelism : {1u, 2u, 4u}) {
        INFO(test::kind_name(kind) << " windows, seed " << seed << ", parallelism " << parallelism);
        std::vector<std::string> results;
        std::vector<std::string> late;
        pipeline p{"window_model"};
        test::window_model_job(p, model, parallelism, 0, collect(results), collect(late));
        runtime rt{config};
        auto error = rt.run(p);
        INFO(describe(error));
        REQUIRE_FALSE(error);
        check_window_model(model, results, late);
      }
    }
}

TEST_CASE("windows of every kind stay exact when window instances are killed alone mid-run") {
  for (auto kind : every_kind) {
    INFO(test::kind_name(kind) << " windows");
    test::temp_dir state;
    auto config = test::recovery_config(state);
    auto model = test::make_window_model(kind, 40'000, 20, config.batch_size, 3);
    std::vector<std::string> results;
    std::vector<std::string> late;
    pipeline p{"window_model"};
    supervision tolerant;
    tolerant.intensity.max_restarts = 100;
    test::window_model_job(p, model, 2, 40'000, collect(results), collect(late), tolerant);
    runtime rt{config};
    auto j = rt.start(p);
    REQUIRE(j);
    REQUIRE(test::wait_for_checkpoint(*j, 2));
    const std::vector<std::pair<std::string, uint32_t>> targets{
      {"window", 0}, {"window", 1}, {"format", 1}, {"window/results", 0}, {"window", 1}};
    CHECK(test::kill_in_turn(*j, targets, 120ms) >= 2);
    auto error = j->wait();
    INFO(describe(error));
    REQUIRE_FALSE(error);
    check_window_model(model, results, late);
  }
}

TEST_CASE("windows stay exact when their job is killed with SIGKILL and restarted") {
  constexpr uint64_t events = 60'000;
  for (auto kind : {window_kind::sliding, window_kind::session, window_kind::count}) {
    INFO(test::kind_name(kind) << " windows");
    test::temp_dir dir;
    auto state = dir.file("state");
    auto start = [&](double rate) {
      return test::start_process(test::window_model_job(),
                                 {test::kind_name(kind), std::to_string(events), "5",
                                  dir.path().string(), state, std::to_string(rate)});
    };
    auto completed = [&] {
      return checkpoint_record::load(state + "/window_model/checkpoints").completed;
    };
    // Killed runs emit 10,000 records/s: the input lasts six seconds of them, however fast the
    // build; each is killed within 300 ms of its first checkpoint.
    auto outcome = test::kill_after_checkpoints(
      4, [&] { return start(10'000); }, completed, 300ms, 11);
    REQUIRE(outcome.kills == 4);
    REQUIRE(test::wait_process(start(0)) == 0);
    auto model = test::make_window_model(kind, events, 20, 64, 5);
    check_window_model(model, test::sink_output_lines(dir, "results"),
                       test::sink_output_lines(dir, "late"));
  }
}
