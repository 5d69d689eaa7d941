// recovery_log (order of inputs, source events) --> replayer --> the failed incarnation's order

#include <catch2/catch.hpp>

#include <string>
#include <variant>
#include <vector>

#include "sluice/detail/replayer.hpp"

using sluice::barrier_msg;
using sluice::batch;
using sluice::recovery_log;
using sluice::watermark_msg;
using sluice::detail::input_replayer;
using sluice::detail::source_replayer;
using step = input_replayer<int>::step;

namespace {

batch<int> batch_on(sluice::channel_index channel, uint64_t seq, std::vector<int> values) {
  batch<int> b;
  b.channel = channel;
  b.seq = seq;
  for (int v : values)
    b.records.push_back({v, 0});
  return b;
}

/// A checkpoint's position with its input channels at `inputs`.
recovery_log::position inputs_at(std::vector<uint64_t> inputs) {
  recovery_log::position where;
  where.inputs = std::move(inputs);
  return where;
}

/// What the replay handed on, as text: "c0:1,2" for a batch, "barrier" for a barrier.
struct handled {
  std::vector<std::string> seen;
  void operator()(batch<int>& b) {
    std::string s = "c" + std::to_string(b.channel) + ":";
    for (size_t i = 0; i < b.records.size(); ++i)
      s += (i ? "," : "") + std::to_string(b.records[i].value);
    seen.push_back(s);
  }
  void operator()(recovery_log::clock_tick& t) {
    seen.push_back("clock " + std::to_string(t.time));
  }
  template <class Marker>
  void operator()(Marker&) {
    seen.emplace_back("marker");
  }
};

} // namespace

TEST_CASE("the input replayer hands on what arrives in the logged order of channels") {
  recovery_log log{0};
  log.took(0, inputs_at({0, 0}));
  log.handled(1, 2); // the failed incarnation took two records of channel 1 first,
  log.handled(0, 3); // then three of channel 0,
  log.handled(1, 1); // then one more of channel 1
  const auto& where = log.restart(0, true);
  input_replayer<int> replay;
  REQUIRE(replay.start(log, where.order_mark, 2));
  handled h;
  replay.arrive(batch_on(0, 0, {10, 11, 12}));
  CHECK(replay.next(h) == step::waiting); // channel 1 comes first
  replay.arrive(batch_on(1, 0, {20, 21, 22}));
  CHECK(replay.next(h) == step::handled);
  CHECK(replay.next(h) == step::handled);
  CHECK(replay.next(h) == step::handled);
  CHECK(replay.next(h) == step::finished);
  CHECK(h.seen == std::vector<std::string>{"c1:20,21", "c0:10,11,12", "c1:22"});
}

TEST_CASE("the input replayer moves the clock where the failed incarnation moved it") {
  recovery_log log{0};
  log.took(0, inputs_at({0}));
  log.handled(0, 2);
  log.ticked(1005); // between the second and the third record
  log.handled(0, 2);
  log.ticked(1007);
  const auto& where = log.restart(0, true);
  input_replayer<int> replay;
  REQUIRE(replay.start(log, where.order_mark, 1));
  handled h;
  replay.arrive(batch_on(0, 0, {1, 2, 3, 4}));
  while (replay.next(h) == step::handled) {
  }
  CHECK(h.seen == std::vector<std::string>{"c0:1,2", "clock 1005", "c0:3,4", "clock 1007"});
}

TEST_CASE("the input replayer hands what arrived meanwhile on when the log is done") {
  recovery_log log{0};
  log.took(0, inputs_at({0, 0}));
  log.handled(0, 1);
  const auto& where = log.restart(0, true);
  input_replayer<int> replay;
  REQUIRE(replay.start(log, where.order_mark, 2));
  handled h;
  replay.arrive(batch_on(1, 0, {5}));
  replay.arrive(watermark_msg{0, 3, 0, 0});
  CHECK(replay.next(h) == step::handled);
  CHECK(replay.next(h) == step::finished);
  std::vector<sluice::channel_index> rest;
  replay.finish([&](auto&& e) { rest.push_back(sluice::detail::channel_of<int>(e)); });
  CHECK(rest == std::vector<sluice::channel_index>{1});
  CHECK_FALSE(replay.active());
}

TEST_CASE("an input replayer without anything logged is not active") {
  recovery_log log{0};
  log.took(0, inputs_at({0}));
  const auto& where = log.restart(0, true);
  input_replayer<int> replay;
  CHECK_FALSE(replay.start(log, where.order_mark, 1));
}

TEST_CASE("the source replayer does the logged markers at their counts, then what waited") {
  using marker = std::variant<watermark_msg, sluice::idle_msg>;
  recovery_log log{0};
  log.took(0, inputs_at({}));
  log.source_did({100, barrier_msg{0, 1}});
  log.source_emitted(250);
  const auto& where = log.restart(0, true);
  source_replayer<marker> replay;
  replay.start(log, where.events_mark);
  REQUIRE(replay.next_logged() != nullptr);
  CHECK(replay.next_logged()->emitted == 100);
  replay.advance();
  CHECK(replay.next_logged() == nullptr);
  // Past the log, the failed incarnation emitted 250 records: the new one replays until then.
  CHECK(replay.replaying(200));
  CHECK_FALSE(replay.replaying(250));
  replay.hold(watermark_msg{0, 5});
  replay.hold(watermark_msg{0, 9}); // only the newest of a run of watermarks matters
  replay.defer_checkpoint(2);
  replay.defer_finish();
  auto due = replay.take_deferred();
  REQUIRE(due.markers.size() == 1);
  CHECK(std::get<watermark_msg>(due.markers[0]).time == 9);
  CHECK(due.checkpoints == std::vector<uint64_t>{2});
  CHECK(due.finish);
  CHECK_FALSE(replay.has_deferred());
}
