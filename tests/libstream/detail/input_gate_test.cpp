// upstream --(seq, incarnation)--> input_gate --> queue | held --> handled --> credit back

#include <catch2/catch.hpp>

#include "sluice/detail/input_gate.hpp"

using sluice::barrier_msg;
using sluice::batch;
using sluice::detail::input_gate;
using verdict = input_gate<int>::admission::verdict;

namespace {

batch<int> batch_on(sluice::channel_index channel, uint64_t seq, int n) {
  batch<int> b;
  b.channel = channel;
  b.seq = seq;
  for (int i = 0; i < n; ++i)
    b.records.push_back({i, 0});
  return b;
}

} // namespace

TEST_CASE("the input gate accepts each element once and drops what a channel delivered before") {
  input_gate<int> gate{100, 100};
  gate.reset({0, 0});
  auto first = gate.accept(0, 0, 10, 0);
  CHECK(first.what == verdict::accepted);
  CHECK(first.fresh == 10);
  // A restarted upstream sends elements 5..14 again: the first five are duplicates.
  auto overlap = gate.accept(0, 5, 10, 0);
  CHECK(overlap.what == verdict::accepted);
  CHECK(overlap.skip == 5);
  CHECK(overlap.fresh == 5);
  CHECK(gate.accept(0, 3, 4, 0).what == verdict::duplicate);
  CHECK(gate.at(0).next == 15);
  // Channels count apart.
  CHECK(gate.accept(1, 0, 1, 0).what == verdict::accepted);
}

TEST_CASE("the input gate drops what a replaced upstream incarnation sent and reports gaps") {
  input_gate<int> gate{100, 100};
  gate.reset({2});
  CHECK(gate.accept(0, 0, 1, 1).what == verdict::stale);
  CHECK(gate.accept(0, 3, 1, 2).what == verdict::gap);
  CHECK(gate.at(0).next == 0);
}

TEST_CASE("the input gate returns credit in lumps of half its input buffer") {
  input_gate<int> gate{100, 100};
  gate.reset({0});
  gate.note_queued(0, 80, false, false);
  CHECK(gate.queued() == 80);
  CHECK(gate.grant(0, gate.note_handled(0, 30, 30)) == 0);
  CHECK(gate.grant(0, gate.note_handled(0, 30, 30)) == 60);
  CHECK(gate.grant(0, gate.note_handled(0, 20, 20)) == 0);
  CHECK(gate.queued() == 0);
  CHECK(gate.at(0).handled == 80);
}

TEST_CASE("records paid for on arrival earn no credit when handled") {
  input_gate<int> gate{10, 10};
  gate.reset({0});
  gate.note_queued(0, 8, false, true);
  CHECK(gate.note_handled(0, 8, 8) == 0);
  gate.note_queued(0, 4, false, false);
  CHECK(gate.note_handled(0, 4, 4) == 4);
}

TEST_CASE("a reattached upstream gets the input buffer less what is queued and unpaid") {
  input_gate<int> gate{100, 100};
  gate.reset({0});
  gate.note_queued(0, 30, false, false);
  gate.note_queued(0, 20, false, true);
  CHECK(gate.reattach(0, 1) == 70);
  CHECK(gate.accept(0, 0, 1, 0).what == verdict::stale);
  CHECK(gate.accept(0, 0, 1, 1).what == verdict::accepted);
}

TEST_CASE("a starved instance doubles the window of an upstream that waits, up to the limit") {
  input_gate<int> gate{100, 350};
  gate.reset({0, 0});
  CHECK(gate.at(0).window == 100);
  // The upstream filled the window and waits; the instance handles it all and starves.
  gate.note_queued(0, 100, true, false);
  CHECK(gate.starved(0) == 0); // records still queued
  CHECK(gate.grant(0, gate.note_handled(0, 60, 60)) == 60);
  CHECK(gate.grant(0, gate.note_handled(0, 40, 40)) == 0); // less than a lump: held back
  // What was held back goes now, with the growth: the window is 200.
  CHECK(gate.starved(0) == 40 + 100);
  CHECK(gate.at(0).window == 200);
  CHECK(gate.starved(0) == 0); // once per wait
  // A channel whose upstream does not wait keeps its window.
  gate.note_queued(1, 10, false, false);
  (void)gate.note_handled(1, 10, 10);
  CHECK(gate.starved(1) == 0);
  CHECK(gate.at(1).window == 100);
  // Growth stops at the limit; the whole window may be queued.
  gate.note_queued(0, 200, true, false);
  CHECK(gate.grant(0, gate.note_handled(0, 200, 200)) == 200);
  CHECK(gate.starved(0) == 150);
  CHECK(gate.at(0).window == 350);
  gate.note_queued(0, 350, true, false);
  CHECK(gate.peak_queued_per_channel() == 350);
  CHECK(gate.grant(0, gate.note_handled(0, 340, 340)) == 340);
  CHECK(gate.grant(0, gate.note_handled(0, 10, 10)) == 0);
  CHECK(gate.starved(0) == 10);
  CHECK(gate.at(0).window == 350);
  // A reattached upstream gets the grown window.
  CHECK(gate.reattach(0, 0) == 350);
}

TEST_CASE("a window never starts above its limit, nor is the limit below the start") {
  input_gate<int> gate{100, 10};
  gate.reset({0});
  CHECK(gate.window_limit() == 100);
  gate.note_queued(0, 100, true, false);
  (void)gate.note_handled(0, 100, 100);
  (void)gate.starved(0);
  CHECK(gate.at(0).window == 100);
}

TEST_CASE("a holding channel keeps its elements aside until released, in order") {
  input_gate<int> gate{100, 100};
  gate.reset({0, 0});
  CHECK(gate.hold(0));
  CHECK_FALSE(gate.hold(1)); // not the first channel to hold
  CHECK_FALSE(gate.hold(0));
  gate.admit(batch_on(0, 0, 1));
  gate.admit(barrier_msg{0, 7, 1, 0});
  gate.admit(batch_on(1, 0, 2));
  CHECK(gate.queue().empty());
  std::vector<sluice::channel_index> readmitted;
  gate.release(0, [&](auto&& e) {
    readmitted.push_back(sluice::detail::channel_of<int>(e));
    gate.admit(std::move(e));
  });
  CHECK(readmitted.size() == 2);
  CHECK(gate.queue().size() == 2);
  CHECK(std::holds_alternative<batch<int>>(gate.queue().front()));
  CHECK(std::holds_alternative<barrier_msg>(gate.queue().back()));
  CHECK(gate.holding(1));
}
