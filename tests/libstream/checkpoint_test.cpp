// barrier alignment in one host (two fake upstreams -> map host -> fake downstream, stepped by
// CAF's test_coordinator), and whole pipelines that checkpoint, stop and restore exactly

#include <catch2/catch.hpp>

#include <map>
#include <variant>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/scheduler/test_coordinator.hpp>

#include "sluice/checkpoint_record.hpp"

#include "support/fake_actors.hpp"
#include "support/test_support.hpp"

using namespace sluice;
using namespace std::chrono_literals;

namespace {

/// What reached the downstream, as text: "b:<values>" per batch, "B<id>" per barrier, "C<below>"
/// per cancel.
std::vector<std::string> trace(const test::fake_log& log) {
  std::vector<std::string> out;
  for (const auto& e : log.downstream) {
    if (const auto* b = std::get_if<batch<int>>(&e)) {
      std::string s = "b:";
      for (const auto& r : b->records)
        s += std::to_string(r.value) + ",";
      out.push_back(s);
    } else if (const auto* m = std::get_if<barrier_msg>(&e)) {
      out.push_back("B" + std::to_string(m->checkpoint));
    } else if (const auto* c = std::get_if<cancel_msg>(&e)) {
      out.push_back("C" + std::to_string(c->below));
    } else if (std::holds_alternative<end_of_stream_msg>(e)) {
      out.push_back("eos");
    }
  }
  return out;
}

/// A map host (x -> x) with two inputs, a recording downstream and a recording coordinator.
struct two_channel_host {
  two_channel_host()
    : sys(configure(cfg)), sched(dynamic_cast<caf::scheduler::test_coordinator&>(sys.scheduler())) {
    upstream = test::spawn_fake_upstream(sys, log);
    downstream = test::spawn_fake_downstream(sys, log);
    coordinator = test::spawn_fake_coordinator(sys, log);
    runtime_config config;
    config.batch_size = 100;
    config.input_buffer = 100;
    config.state = state_backend::memory;
    auto identity = [](int x) { return x; };
    using host = detail::operator_host<op::map<int, decltype(identity)>>;
    instance_info info{"p", "id", 0, 1, 128, false, std::nullopt};
    node = sys.spawn<host>(op::map<int, decltype(identity)>{identity}, info, config,
                           instance_services<int>{});
    wiring<int, int> w;
    w.outputs.push_back(edge_wiring<int>{partitioning::forward, 128, {{downstream, 0}}});
    w.inputs.push_back({upstream, 0});
    w.inputs.push_back({upstream, 1});
    w.coordinator = coordinator;
    w.instance_number = 5;
    caf::anon_send(node, std::move(w));
    caf::anon_send(node, start_atom::value);
    caf::anon_send(node, credit_msg{0, 1000});
    sched.run();
  }

  ~two_channel_host() {
    for (auto a :
         {caf::actor_cast<caf::actor>(node), caf::actor_cast<caf::actor>(upstream),
          caf::actor_cast<caf::actor>(downstream), caf::actor_cast<caf::actor>(coordinator)})
      caf::anon_send_exit(a, caf::exit_reason::kill);
    sched.run();
  }

  static caf::actor_system_config& configure(caf::actor_system_config& c) {
    c.set("scheduler.policy", caf::atom("testing"));
    return c;
  }

  /// Sends a marker, numbered after what was sent before on its channel.
  template <class Marker>
  void send(Marker m) {
    caf::anon_send(node, stamps.marker(m));
    sched.run();
  }

  void send_batch(channel_index channel, std::vector<int> values) {
    caf::anon_send(node, stamps.batch_of(channel, values));
    sched.run();
  }

  std::shared_ptr<test::fake_log> log = std::make_shared<test::fake_log>();
  caf::actor_system_config cfg;
  caf::actor_system sys;
  caf::scheduler::test_coordinator& sched;
  test::channel_stamps stamps;
  output_actor<int> upstream;
  input_actor<int> downstream;
  coordinator_actor coordinator;
  host_actor<int, int> node;
};

using lines = std::vector<std::string>;

} // namespace

TEST_CASE("a host holds back an input past its barrier until every input delivered it") {
  two_channel_host f;
  f.send(barrier_msg{0, 1});
  f.send_batch(0, {10}); // after input 0's barrier: held
  f.send_batch(1, {20}); // before input 1's barrier: processed
  CHECK(trace(*f.log) == lines{"b:20,"});
  CHECK(f.log->acks.empty());
  f.send(barrier_msg{1, 1});
  // The checkpoint is taken between input 1's record and input 0's held one.
  CHECK(trace(*f.log) == lines{"b:20,", "B1", "b:10,"});
  REQUIRE(f.log->acks.size() == 1);
  CHECK(f.log->acks[0].checkpoint == 1);
  CHECK(f.log->acks[0].instance == 5);
}

TEST_CASE("an input that ends while a checkpoint aligns no longer holds it up") {
  two_channel_host f;
  f.send(barrier_msg{0, 1});
  f.send_batch(0, {10});
  f.send(end_of_stream_msg{1});
  CHECK(trace(*f.log) == lines{"B1", "b:10,"});
  CHECK(f.log->acks.size() == 1);
  f.send(end_of_stream_msg{0});
  CHECK(trace(*f.log).back() == "eos");
}

TEST_CASE("a host that skips checkpoints tells its downstream that their barriers will not come") {
  two_channel_host f;
  f.send(barrier_msg{0, 1});
  f.send_batch(0, {10}); // held for checkpoint 1
  // Checkpoint 1 was abandoned upstream of input 1, which goes on to checkpoint 3: this host
  // lets input 0 go and says that nothing below 3 follows from it.
  f.send(barrier_msg{1, 3});
  CHECK(trace(*f.log) == lines{"C3", "b:10,"});
  f.send(barrier_msg{0, 3});
  CHECK(trace(*f.log) == lines{"C3", "b:10,", "B3"});
  REQUIRE(f.log->acks.size() == 1);
  CHECK(f.log->acks[0].checkpoint == 3);
}

TEST_CASE("a cancel from one input ends the alignment that holds the others") {
  two_channel_host f;
  f.send(barrier_msg{0, 1});
  f.send_batch(0, {10}); // held for checkpoint 1
  f.send(cancel_msg{1, 2});
  // Checkpoint 1's barrier will not come on input 1: input 0 goes on, the cancel goes on, and
  // a late barrier of checkpoint 1 is dropped.
  CHECK(trace(*f.log) == lines{"C2", "b:10,"});
  f.send(barrier_msg{1, 1});
  f.send_batch(1, {20});
  CHECK(trace(*f.log) == lines{"C2", "b:10,", "b:20,"});
  CHECK(f.log->acks.empty());
}

TEST_CASE("a job restored from its last completed checkpoint counts every record exactly once") {
  test::temp_dir dir;
  constexpr uint64_t records = 40'000;
  constexpr int keys = 10;
  auto make = [&](pipeline& p, std::vector<std::pair<int64_t, int64_t>>& out, double rate) {
    p.source(generate<int64_t>([](uint64_t i) { return static_cast<int64_t>(i % keys); },
                               {.count = records, .rate = rate}))
      .parallelism(2)
      .key_by([](int64_t k) { return k; })
      .count()
      .parallelism(2)
      .sink(collect(out));
  };
  auto config = test::small_batches();
  config.mode = execution_mode::streaming;
  config.state_dir = dir.path().string();
  config.checkpoint_interval = 10ms;
  auto record_path = (dir.path() / "restore" / "checkpoints").string();

  // Run 1: slow, stopped (as by a crash) after a few checkpoints completed.
  {
    pipeline p{"restore"};
    std::vector<std::pair<int64_t, int64_t>> out;
    make(p, out, 20'000);
    test::stop_after_checkpoints(p, config, 3);
  }
  auto first = checkpoint_record::load(record_path);
  CHECK(first.completed >= 3);
  CHECK(first.triggered >= first.completed);

  // Run 2: restores, then reads the rest at full speed.
  pipeline p{"restore"};
  std::vector<std::pair<int64_t, int64_t>> out;
  make(p, out, 0);
  runtime rt{config};
  REQUIRE_FALSE(rt.run(p));
  // It started after the records of the restored checkpoint...
  CHECK(out.size() < records);
  // ... and still every key counts every record exactly once.
  auto counts = test::last_per_key(out);
  REQUIRE(counts.size() == keys);
  for (const auto& [k, n] : counts)
    CHECK(n == static_cast<int64_t>(records / keys));
  // Checkpoint ids never repeat across runs.
  CHECK(checkpoint_record::load(record_path).triggered >= first.triggered);
}

TEST_CASE("a corrupt checkpoint record is a clear error naming the path") {
  test::temp_dir dir;
  std::filesystem::create_directories(dir.path() / "broken");
  std::ofstream{dir.file("broken/checkpoints")} << "garbage";
  pipeline p{"broken"};
  std::vector<int64_t> out;
  p.source(from_collection(std::vector<int64_t>{1, 2})).sink(collect(out));
  auto config = test::small_batches();
  config.state_dir = dir.path().string();
  config.checkpoint_interval = 10ms;
  runtime rt{config};
  auto err = rt.run(p);
  auto info = info_of(err);
  REQUIRE(info);
  CHECK(info->subject == dir.file("broken/checkpoints"));
}

TEST_CASE("a file sink restored from a checkpoint writes every record exactly once") {
  test::temp_dir dir;
  constexpr uint64_t records = 30'000;
  auto make = [&](pipeline& p, double rate) {
    p.source(generate<int64_t>([](uint64_t i) { return static_cast<int64_t>(i); },
                               {.count = records, .rate = rate}))
      .parallelism(2)
      .map([](int64_t x) { return x * 3; })
      .parallelism(2)
      .sink(write_file(dir.file("out.txt")));
  };
  auto config = test::small_batches();
  config.state_dir = (dir.path() / "state").string();
  config.checkpoint_interval = 10ms;
  REQUIRE_FALSE(test::run_stopped_and_restored("file", config, make));
  auto lines = test::read_lines(dir.file("out.txt"));
  std::sort(lines.begin(), lines.end());
  std::vector<std::string> expected;
  for (uint64_t i = 0; i < records; ++i)
    expected.push_back(std::to_string(i * 3));
  std::sort(expected.begin(), expected.end());
  CHECK(lines.size() == expected.size());
  bool identical = lines == expected; // not printed: 30 000 lines
  CHECK(identical);
}

TEST_CASE("a checkpoint on request is taken at once, and its statistics cover every instance") {
  test::temp_dir dir;
  pipeline p{"on-request"};
  std::vector<std::pair<int64_t, int64_t>> out;
  p.source(generate<int64_t>([](uint64_t i) { return static_cast<int64_t>(i % 100); },
                             {.count = 1'000'000, .rate = 20'000}))
    .parallelism(2)
    .key_by([](int64_t k) { return k; })
    .count()
    .name("count")
    .parallelism(2)
    .sink(collect(out));
  auto config = test::small_batches();
  config.mode = execution_mode::streaming;
  config.state_dir = dir.path().string();
  config.checkpoint_interval = std::chrono::hours{1}; // only on request
  runtime rt{config};
  auto job = rt.start(p);
  REQUIRE(job);
  auto counted = [&] {
    for (const auto& s : job->inspect())
      if (s.operator_name == "count" && s.records_in > 0)
        return true;
    return false;
  };
  REQUIRE(test::eventually(counted));
  CHECK(job->checkpoints().empty());

  auto id = job->checkpoint_now();
  REQUIRE(id);
  CHECK(*id == 1);
  auto completed = [&](uint64_t checkpoint) {
    auto history = job->checkpoints();
    return !history.empty() && history.back().id == checkpoint && history.back().completed;
  };
  REQUIRE(test::eventually([&] { return completed(1); }));
  auto stats = job->checkpoints().back();
  CHECK(stats.instances.size() == job->inspect().size());
  CHECK(stats.duration_ns > 0);
  uint64_t count_bytes = 0;
  for (const auto& i : stats.instances) {
    CHECK_FALSE(i.operator_name.empty());
    CHECK(i.write_ns > 0);
    if (i.operator_name == "count")
      count_bytes += i.bytes;
  }
  CHECK(count_bytes > 0); // the counts of the keys seen so far
  CHECK(stats.bytes() >= count_bytes);

  id = job->checkpoint_now();
  REQUIRE(id);
  CHECK(*id == 2);
  REQUIRE(test::eventually([&] { return completed(2); }));
  job->cancel();
  CHECK(job->wait());
  CHECK_FALSE(job->checkpoint_now());
}

TEST_CASE("a checkpoint on request of a job without checkpoints is a clear error") {
  pipeline p{"no-checkpoints"};
  std::vector<int64_t> out;
  p.source(generate<int64_t>([](uint64_t i) { return static_cast<int64_t>(i); },
                             {.count = {}, .rate = 1000}))
    .sink(collect(out));
  runtime rt{test::small_batches()};
  auto job = rt.start(p);
  REQUIRE(job);
  auto id = job->checkpoint_now();
  REQUIRE_FALSE(id);
  CHECK_THAT(describe(id.error()), Catch::Contains("checkpoint_interval"));
  CHECK(job->checkpoints().empty());
  job->cancel();
  CHECK(job->wait());
}
