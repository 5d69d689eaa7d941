// in0, in1 --barrier n--> barrier_aligner --> take n once every live input delivered it

#include <catch2/catch.hpp>

#include <vector>

#include "sluice/detail/barrier_aligner.hpp"

using sluice::detail::barrier_aligner;
using state = barrier_aligner::state;

namespace {

struct released {
  std::vector<size_t> inputs;
  void operator()(size_t i) { inputs.push_back(i); }
};

} // namespace

TEST_CASE("the aligner takes a checkpoint once every input delivered its barrier") {
  barrier_aligner a{2, 0};
  released r;
  CHECK(a.current() == state::waiting_for_first_barrier);
  CHECK(a.aligns(1));
  CHECK(a.on_barrier(0, 1, r).cancel_below == 0);
  CHECK(a.current() == state::collecting_barriers);
  CHECK(a.aligned(0));
  CHECK_FALSE(a.aligned());
  a.on_barrier(1, 1, r);
  CHECK(a.aligned() == 1u);
  a.passed(1);
  CHECK(a.current() == state::waiting_for_first_barrier);
  CHECK_FALSE(a.aligns(1)); // taken: a late twin is dropped
  CHECK(r.inputs.empty());
}

TEST_CASE("an ended input has nothing to align") {
  barrier_aligner a{3, 0};
  released r;
  a.on_end(2);
  a.on_barrier(0, 4, r);
  CHECK_FALSE(a.aligned());
  a.on_barrier(1, 4, r);
  CHECK(a.aligned() == 4u);
}

TEST_CASE("a newer barrier abandons the alignment in progress and releases its inputs") {
  barrier_aligner a{3, 0};
  released r;
  a.on_barrier(0, 1, r);
  // Checkpoint 1 was abandoned: 2's barrier ends its alignment, and downstream learns that no
  // barrier of 1 follows from here.
  auto step = a.on_barrier(1, 2, r);
  CHECK(r.inputs == std::vector<size_t>{0});
  CHECK(step.cancel_below == 2);
  CHECK(a.aligning() == 2u);
  CHECK_FALSE(a.aligns(1));
  CHECK(a.aligns(2));
}

TEST_CASE("a cancel marker ends an older alignment and passes on only what downstream lacks") {
  barrier_aligner a{2, 5};
  released r;
  a.on_barrier(0, 6, r);
  auto step = a.on_cancel(8, r);
  CHECK(r.inputs == std::vector<size_t>{0});
  CHECK(a.current() == state::waiting_for_first_barrier);
  CHECK(step.cancel_below == 8);
  CHECK_FALSE(a.aligns(7));
  CHECK(a.aligns(8));
  // The same news twice is passed on once.
  CHECK(a.on_cancel(8, r).cancel_below == 0);
  CHECK(a.on_cancel(0, r).cancel_below == 0);
}

TEST_CASE("no cancel is passed on when downstream had the barrier just before") {
  barrier_aligner a{1, 0};
  released r;
  a.on_barrier(0, 1, r);
  REQUIRE(a.aligned() == 1u);
  a.passed(1);
  CHECK(a.on_barrier(0, 2, r).cancel_below == 0);
}
