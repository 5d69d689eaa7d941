// words (2) [+ more (1) -> union -> rebalance] -> copy -> key_by -> count (2) -> out (2), through
// dense random kills and thrown exceptions: the running counts come out exact. tools/chaos runs
// the long form of this (docs/chaos.md).

#include <catch2/catch.hpp>

#include <chrono>
#include <random>
#include <string>
#include <vector>

#include "support/exact_counts.hpp"
#include "support/test_support.hpp"

using namespace sluice;
using namespace std::chrono_literals;
using sluice::test::changelog;

namespace {

enum class fault { kill, throw_, either };

/// What one chaos run does: which operators faults hit, of which kind, how many, how far apart.
struct chaos_plan {
  std::vector<std::string> targets;
  fault kind = fault::either;
  int faults = 30;
  std::chrono::milliseconds min_gap = 50ms;
  std::chrono::milliseconds max_gap = 200ms;
  /// Two sources joined by a union and rebalanced to three copy instances, instead of one
  /// source forwarding to two.
  bool union_rebalance = false;
  uint32_t seed = 1;
};

/// The job's sources: "words" (2 instances), or with `union_rebalance` "words" and "more" (1)
/// joined and rebalanced; `records` words in all at 100'000 words/s.
stream<std::string> sources(pipeline& p, uint64_t records, bool union_rebalance,
                            const supervision& tolerant) {
  auto first = union_rebalance ? records * 2 / 3 : records;
  auto rate = [records](uint64_t n) {
    return 100'000.0 * static_cast<double>(n) / static_cast<double>(records);
  };
  auto words = p.source(generate<std::string>(test::key_of, {first, rate(first)}));
  words.parallelism(2).name("words").supervision(tolerant);
  if (!union_rebalance)
    return words;
  auto more =
    p.source(generate<std::string>([first](uint64_t i) { return test::key_of(first + i); },
                                   {records - first, rate(records - first)}));
  more.name("more").supervision(tolerant);
  return words.union_with(more).rebalance();
}

/// The job, each operator supervised to restart many times with a short backoff.
void chaos_job(pipeline& p, changelog& out, uint64_t records, bool union_rebalance) {
  supervision tolerant;
  tolerant.intensity.max_restarts = 100'000;
  tolerant.backoff.max = 20ms;
  sources(p, records, union_rebalance, tolerant)
    .map([](std::string w) { return w; })
    .parallelism(union_rebalance ? 3 : 2)
    .name("copy")
    .supervision(tolerant)
    .key_by([](const std::string& w) { return w; })
    .count()
    .parallelism(2)
    .name("count")
    .supervision(tolerant)
    .sink(collect(out))
    .parallelism(2)
    .name("out")
    .supervision(tolerant);
}

/// The instances of operator `op` in the chaos job.
uint32_t instances_of(const std::string& op, bool union_rebalance) {
  if (op == "more")
    return 1;
  return op == "copy" && union_rebalance ? 3 : 2;
}

/// Runs the chaos job through the plan's faults; the counts at the end must be exact.
void run_chaos(const chaos_plan& plan) {
  test::temp_dir state;
  constexpr uint64_t records = 300'000;
  changelog out;
  pipeline p{"chaos"};
  chaos_job(p, out, records, plan.union_rebalance);
  runtime rt{test::recovery_config(state)};
  auto j = rt.start(p);
  REQUIRE(j);
  REQUIRE(test::wait_for_checkpoint(*j, 1));
  std::mt19937 random{plan.seed};
  std::uniform_int_distribution<int64_t> gap{plan.min_gap.count(), plan.max_gap.count()};
  int done = 0;
  for (; done < plan.faults && !j->wait_for(std::chrono::milliseconds{gap(random)}); ++done) {
    const auto& op = plan.targets[random() % plan.targets.size()];
    auto instance = static_cast<uint32_t>(random() % instances_of(op, plan.union_rebalance));
    bool kill = plan.kind == fault::kill || (plan.kind == fault::either && random() % 2 == 0);
    if (kill)
      CHECK_FALSE(j->kill(op, instance));
    else
      CHECK_FALSE(j->inject_fault(op, instance, {1 + random() % 500, 0}));
  }
  INFO(done << " faults");
  CHECK(done >= 5);
  test::check_ends_exact(*j, out, records);
}

} // namespace

TEST_CASE("chaos: random kills and thrown exceptions during one run leave the counts exact") {
  run_chaos({.targets = {"words", "copy", "count", "out"}, .seed = 20261124});
}

TEST_CASE("chaos: a source and its downstream killed close together leave the counts exact") {
  // A restarted source must emit exactly what its failed incarnation emitted, as far as that
  // one got, even when its downstream restarted meanwhile to a point before that.
  run_chaos({.targets = {"words", "copy"},
             .kind = fault::kill,
             .faults = 40,
             .min_gap = 10ms,
             .max_gap = 50ms,
             .seed = 3});
}

TEST_CASE("chaos: instances failing again while they replay leave the counts exact") {
  run_chaos({.targets = {"copy"}, .faults = 40, .min_gap = 5ms, .max_gap = 20ms, .seed = 11});
}

TEST_CASE("chaos: dense faults around a union and a rebalance leave the counts exact") {
  run_chaos({.targets = {"words", "more", "copy", "count"},
             .faults = 60,
             .min_gap = 10ms,
             .max_gap = 50ms,
             .union_rebalance = true,
             .seed = 7});
}
