// fake upstream -> operator_host<map> -> fake downstream, stepped by CAF's test_coordinator

#include <catch2/catch.hpp>

#include <variant>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/scheduler/test_coordinator.hpp>

#include "support/fake_actors.hpp"
#include "support/test_support.hpp"

using namespace sluice;

namespace {

/// A deterministic actor system with one map host wired between two recording fakes.
struct fixture {
  explicit fixture(bool started = true)
    : sys(configure(cfg)), sched(dynamic_cast<caf::scheduler::test_coordinator&>(sys.scheduler())) {
    upstream = test::spawn_fake_upstream(sys, log);
    downstream = test::spawn_fake_downstream(sys, log);
    runtime_config config;
    config.batch_size = 4;
    config.input_buffer = 8;
    auto doubler = [](int x) { return 2 * x; };
    using host = detail::operator_host<op::map<int, decltype(doubler)>>;
    instance_info info{"p", "double", 0, 1, 128, false, std::nullopt};
    node = sys.spawn<host>(op::map<int, decltype(doubler)>{doubler}, info, config,
                           instance_services<int>{});
    wiring<int, int> w;
    w.outputs.push_back(edge_wiring<int>{partitioning::forward, 128, {{downstream, 3}}});
    w.inputs.push_back({upstream, 7});
    caf::anon_send(node, std::move(w));
    if (started)
      caf::anon_send(node, start_atom::value);
    sched.run();
  }

  ~fixture() {
    for (auto a : {caf::actor_cast<caf::actor>(node), caf::actor_cast<caf::actor>(upstream),
                   caf::actor_cast<caf::actor>(downstream)})
      caf::anon_send_exit(a, caf::exit_reason::kill);
    sched.run();
  }

  static caf::actor_system_config& configure(caf::actor_system_config& c) {
    c.set("scheduler.policy", caf::atom("testing"));
    return c;
  }

  void send_batch(std::vector<int> values) {
    caf::anon_send(node, stamps.batch_of(0, values));
    sched.run();
  }

  /// Sends a marker on input channel 0, numbered after what was sent before.
  template <class Marker>
  void send_marker(Marker m) {
    caf::anon_send(node, stamps.marker(m));
    sched.run();
  }

  void grant(int64_t records) {
    caf::anon_send(node, credit_msg{0, records});
    sched.run();
  }

  std::shared_ptr<test::fake_log> log = std::make_shared<test::fake_log>();
  caf::actor_system_config cfg;
  caf::actor_system sys;
  caf::scheduler::test_coordinator& sched;
  test::channel_stamps stamps;
  output_actor<int> upstream;
  input_actor<int> downstream;
  host_actor<int, int> node;
};

} // namespace

TEST_CASE("a host grants its input buffer as initial credit to each upstream") {
  fixture f;
  REQUIRE(f.log->credit.size() == 1);
  CHECK(f.log->credit[0].output == 7);
  CHECK(f.log->credit[0].records == 8);
}

TEST_CASE("a host sends no record downstream without credit and then no more than granted") {
  fixture f;
  f.send_batch({1, 2, 3, 4, 5, 6});
  CHECK(f.log->downstream.empty());
  f.grant(5);
  CHECK(f.log->values() == std::vector<int>{2, 4, 6, 8, 10});
  auto& first = std::get<batch<int>>(f.log->downstream[0]);
  CHECK(first.channel == 3);
  CHECK(first.seq == 0);
  f.grant(100);
  CHECK(f.log->values() == std::vector<int>{2, 4, 6, 8, 10, 12});
  CHECK(std::get<batch<int>>(f.log->downstream.back()).seq == 5);
}

TEST_CASE("a host returns credit upstream in lumps of half its input buffer") {
  fixture f; // input buffer 8
  f.grant(100);
  f.send_batch({1, 2, 3});
  CHECK(f.log->credit.size() == 1); // 3 processed: not yet half the buffer
  f.send_batch({4});
  REQUIRE(f.log->credit.size() == 2);
  CHECK(f.log->credit[1].records == 4);
  CHECK(f.log->credit[1].output == 7);
  f.send_batch({5, 6, 7, 8, 9});
  REQUIRE(f.log->credit.size() == 3);
  CHECK(f.log->credit[2].records == 5);
}

TEST_CASE("a blocked host stops taking input and markers wait behind records lacking credit") {
  fixture f;
  f.send_batch({1, 2, 3, 4, 5, 6, 7, 8}); // fills the output: the host is now blocked
  f.send_marker(watermark_msg{0, 42});
  f.send_batch({9});
  // The first batch was processed and its credit returned; the second waits unprocessed.
  CHECK(f.log->credit.size() == 2);
  CHECK(f.log->credit[1].records == 8);
  f.grant(6); // sends 6 records; 2 remain, so the host unblocks and takes the marker and batch
  CHECK(f.log->values() == std::vector<int>{2, 4, 6, 8, 10, 12});
  CHECK(f.log->credit.size() == 2); // one more record processed: below half the buffer
  f.grant(100);
  // The 8 records waited as two full batches of 4, so none of the batches sent is longer.
  REQUIRE(f.log->downstream.size() == 5);
  CHECK(std::get<batch<int>>(f.log->downstream[0]).records.size() == 4);
  CHECK(std::get<batch<int>>(f.log->downstream[1]).records.size() == 2);
  CHECK(std::get<batch<int>>(f.log->downstream[2]).records.size() == 2);
  CHECK(std::get<watermark_msg>(f.log->downstream[3]).time == 42);
  CHECK(std::get<watermark_msg>(f.log->downstream[3]).channel == 3);
  CHECK(std::get<batch<int>>(f.log->downstream[4]).records.at(0).value == 18);
  CHECK(std::get<watermark_msg>(f.log->downstream[3]).seq == 8);
  CHECK(std::get<batch<int>>(f.log->downstream[4]).seq == 9);
}

TEST_CASE("a host returns the credit a duplicate batch took, and none for a duplicate marker") {
  fixture f; // input buffer 8: credit returns in lumps of 4
  f.grant(100);
  auto first = f.stamps.batch_of(0, {1, 2, 3});
  auto mark = f.stamps.marker(watermark_msg{0, 5});
  caf::anon_send(f.node, first);
  caf::anon_send(f.node, mark);
  f.sched.run();
  REQUIRE(f.log->credit.size() == 1); // 3 handled: below the lump
  // An upstream that sends again what the host has: only the batch took credit.
  caf::anon_send(f.node, mark);
  caf::anon_send(f.node, mark);
  f.sched.run();
  CHECK(f.log->credit.size() == 1);
  caf::anon_send(f.node, first);
  f.sched.run();
  REQUIRE(f.log->credit.size() == 2);
  CHECK(f.log->credit[1].records == 6); // the 3 handled and the 3 dropped
  CHECK(f.log->values() == std::vector<int>{2, 4, 6});
}

TEST_CASE("markers that come before the start (they need no credit) wait for it") {
  fixture f{false};
  f.send_marker(watermark_msg{0, 7});
  f.send_marker(end_of_stream_msg{0});
  CHECK(f.log->downstream.empty());
  CHECK(f.log->credit.empty());
  caf::anon_send(f.node, start_atom::value);
  f.sched.run();
  REQUIRE(f.log->downstream.size() == 3);
  CHECK(std::get<watermark_msg>(f.log->downstream[0]).time == 7);
  CHECK(std::get<watermark_msg>(f.log->downstream[1]).time == max_timestamp);
  CHECK(std::holds_alternative<end_of_stream_msg>(f.log->downstream[2]));
}

TEST_CASE("a host forwards end of stream after its last record and then exits") {
  fixture f;
  f.grant(100);
  f.send_batch({1});
  f.send_marker(end_of_stream_msg{0});
  REQUIRE(f.log->downstream.size() == 3);
  CHECK(std::holds_alternative<batch<int>>(f.log->downstream[0]));
  CHECK(std::get<watermark_msg>(f.log->downstream[1]).time == max_timestamp);
  CHECK(std::holds_alternative<end_of_stream_msg>(f.log->downstream[2]));
}

TEST_CASE("an input that sends a watermark after going idle is active and may go idle again") {
  fixture f;
  f.send_marker(idle_msg{0, true});
  f.send_marker(watermark_msg{0, 5});
  f.send_marker(idle_msg{0, true});
  REQUIRE(f.log->downstream.size() == 4);
  CHECK(std::get<idle_msg>(f.log->downstream[0]).idle);
  CHECK(std::get<watermark_msg>(f.log->downstream[1]).time == 5);
  CHECK_FALSE(std::get<idle_msg>(f.log->downstream[2]).idle);
  CHECK(std::get<idle_msg>(f.log->downstream[3]).idle);
}

TEST_CASE_METHOD(fixture,
                 "a host that finds elements missing on a channel fails with a protocol error") {
  caf::error reason;
  auto watcher = sys.spawn(
    [&](caf::event_based_actor* self, caf::actor watched) -> caf::behavior {
      self->monitor(watched);
      self->set_down_handler([&](caf::down_msg& m) { reason = m.reason; });
      return {[](int) {}};
    },
    caf::actor_cast<caf::actor>(node));
  sched.run();
  auto b = stamps.batch_of(0, {1, 2});
  b.seq = 5; // elements 0 to 4 never came
  caf::anon_send(node, std::move(b));
  sched.run();
  auto info = info_of(reason);
  REQUIRE(info);
  CHECK(info->code == errc::protocol);
  CHECK(info->operator_name == "double");
  CHECK(info->instance == 0u);
  CHECK_THAT(info->message, Catch::Contains("lost elements 0 to 4"));
  caf::anon_send_exit(watcher, caf::exit_reason::kill);
}
