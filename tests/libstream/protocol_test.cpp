// every message between Sluice actors --binary serializer--> bytes --> the same message;
// words -> key_by -> count -> collect, with every message between instances serialized on the way

#include <catch2/catch.hpp>

#include <algorithm>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/binary_deserializer.hpp>
#include <caf/binary_serializer.hpp>
#include <caf/event_based_actor.hpp>

#include "sluice/detail/round_trip.hpp"
#include "sluice/protocol.hpp"

#include "support/exact_counts.hpp"
#include "support/test_support.hpp"

using namespace sluice;
using sluice::detail::round_trip;

namespace {

struct system_fixture {
  caf::actor_system_config cfg;
  caf::actor_system sys;
  caf::actor dummy;

  system_fixture() : sys(configure(cfg)) {
    dummy =
      sys.spawn([](caf::event_based_actor*, int) -> caf::behavior { return {[](int) {}}; }, 0);
  }

  ~system_fixture() { caf::anon_send_exit(dummy, caf::exit_reason::kill); }

  static caf::actor_system_config& configure(caf::actor_system_config& cfg) {
    register_protocol(cfg);
    register_record_type<std::string>(cfg, "string");
    return cfg;
  }

  template <class T>
  T typed() const {
    return caf::actor_cast<T>(dummy);
  }
};

batch<std::string> some_batch() {
  batch<std::string> b;
  b.channel = 3;
  b.seq = 1'000'000'007;
  b.incarnation = 4;
  b.sender_waits = true;
  b.records = {{"alpha", -5}, {"", max_timestamp}, {std::string(300, 'x'), 0}};
  return b;
}

} // namespace

TEST_CASE_METHOD(system_fixture, "every message of the protocol survives CAF's binary serializer") {
  auto b = round_trip(sys, some_batch());
  CHECK(b.channel == 3);
  CHECK(b.seq == 1'000'000'007);
  CHECK(b.incarnation == 4);
  CHECK(b.sender_waits);
  REQUIRE(b.records.size() == 3);
  CHECK(b.records[0].value == "alpha");
  CHECK(b.records[0].time == -5);
  CHECK(b.records[1].time == max_timestamp);
  CHECK(b.records[2].value.size() == 300);

  auto pairs = round_trip(sys, batch<std::pair<std::string, int64_t>>{0, 1, {{{"k", 7}, 9}}, 2});
  CHECK(pairs.records.at(0).value == std::pair<std::string, int64_t>{"k", 7});

  CHECK(round_trip(sys, credit_msg{2, 4096, 7}).records == 4096);
  CHECK(round_trip(sys, watermark_msg{1, min_timestamp, 9, 2}).time == min_timestamp);
  CHECK(round_trip(sys, idle_msg{1, true, 9, 2}).idle);
  CHECK(round_trip(sys, end_of_stream_msg{5, 11, 3}).seq == 11);
  auto barrier = round_trip(sys, barrier_msg{1, 42, 8, 2});
  CHECK((barrier.checkpoint == 42 && barrier.seq == 8 && barrier.incarnation == 2));
  CHECK(round_trip(sys, cancel_msg{0, 17, 3, 1}).below == 17);
  CHECK(round_trip(sys, trigger_checkpoint_msg{5}).checkpoint == 5);
  auto ack = round_trip(sys, checkpoint_ack_msg{5, 3, 100, 200, 300});
  CHECK((ack.instance == 3 && ack.alignment_ns == 100 && ack.bytes == 300));
  CHECK(round_trip(sys, checkpoint_done_msg{6}).checkpoint == 6);
  CHECK(round_trip(sys, source_finished_msg{2}).instance == 2);
  CHECK(round_trip(sys, retention_full_msg{4}).instance == 4);
  CHECK(round_trip(sys, inject_fault_msg{10, 20}).delay_us == 20);
  CHECK(round_trip(sys, instance_failed_msg{9}).instance == 9);
  CHECK(round_trip(sys, restore_point_msg{3, 5}).abandoned_through == 5);
  auto replaced = round_trip(sys, instance_replaced_msg{2, typed<control_actor>()});
  CHECK(replaced.handle == typed<control_actor>());

  auto up =
    round_trip(sys, attach_upstream_msg<std::string>{1, typed<output_actor<std::string>>(), 2, 3});
  CHECK((up.channel == 1 && up.upstream_output == 2 && up.incarnation == 3));
  CHECK(up.upstream == typed<output_actor<std::string>>());
  auto down = round_trip(
    sys, attach_downstream_msg<std::string>{4, typed<input_actor<std::string>>(), 5, 600, 700});
  CHECK((down.output == 4 && down.resume_seq == 600 && down.credit == 700));
  CHECK(down.target == typed<input_actor<std::string>>());

  wiring<std::string, int> w;
  w.outputs.push_back({partitioning::hash, 64, {{typed<input_actor<int>>(), 2, 1}}});
  w.inputs.push_back({typed<output_actor<std::string>>(), 3, 4});
  w.instance_number = 12;
  w.recovery = {true, false, 9, "disk full"};
  auto wired = round_trip(sys, w);
  REQUIRE(wired.outputs.size() == 1);
  CHECK(wired.outputs[0].kind == partitioning::hash);
  CHECK(wired.outputs[0].max_parallelism == 64);
  CHECK(wired.outputs[0].targets.at(0).channel == 2);
  CHECK(wired.inputs.at(0).incarnation == 4);
  CHECK(wired.instance_number == 12);
  CHECK(wired.recovery.last_failure == "disk full");
  CHECK_FALSE(wired.recovery.keep_order);

  instance_stats s;
  s.operator_name = "count";
  s.records_in = 123;
  s.output_credit = {1, 2};
  auto stats = round_trip(sys, s);
  CHECK((stats.operator_name == "count" && stats.records_in == 123));
  CHECK(stats.output_credit == std::vector<int64_t>{1, 2});
}

namespace {

/// A record type CAF serializes field by field (not one Sluice writes as a block).
struct scored {
  std::string name;
  double score = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, scored& x) {
  return f(x.name, x.score);
}

/// The bytes of a batch whose record block is `block`, as a sender would write them.
std::vector<char> batch_bytes(std::vector<char> block) {
  std::vector<char> bytes;
  caf::binary_serializer sink{nullptr, bytes};
  REQUIRE_FALSE(sink(uint32_t{0}, uint64_t{0}, block, uint32_t{0}, false));
  return bytes;
}

/// The error reading `bytes` as a batch of T, or none.
template <class T>
caf::error read_batch(const std::vector<char>& bytes) {
  batch<T> b;
  caf::binary_deserializer source{nullptr, bytes};
  return source(b);
}

} // namespace

TEST_CASE_METHOD(system_fixture,
                 "records of every kind cross in a batch, as one block or field by field") {
  using row = std::tuple<int32_t, std::optional<double>, bool, std::string, uint8_t>;
  batch<row> rows{
    1, 2, {{{-7, std::nullopt, true, "", 255}, 3}, {{1 << 30, 2.5, false, "é", 0}, -3}}};
  auto back = round_trip(sys, rows);
  REQUIRE(back.records.size() == 2);
  CHECK(back.records[0].value == rows.records[0].value);
  CHECK(back.records[1].value == rows.records[1].value);
  CHECK(back.records[1].time == -3);

  batch<std::optional<std::pair<std::string, int64_t>>> nested{
    0, 0, {{std::nullopt, 1}, {{{"k", -1}}, 2}}};
  auto nested_back = round_trip(sys, nested);
  CHECK(nested_back.records.at(0).value == std::nullopt);
  CHECK(nested_back.records.at(1).value == std::pair<std::string, int64_t>{"k", -1});

  batch<scored> others{0, 9, {{{"a", 0.5}, 1}}, 1, true};
  auto others_back = round_trip(sys, others);
  CHECK(
    (others_back.records.at(0).value.name == "a" && others_back.records.at(0).value.score == 0.5));
  CHECK((others_back.seq == 9 && others_back.sender_waits));

  batch<std::string> empty;
  CHECK(round_trip(sys, empty).records.empty());
}

TEST_CASE("a malformed block of records is an error, not a crash or a huge allocation") {
  using word_count = std::pair<std::string, int64_t>;
  std::vector<char> good;
  sluice::detail::wire_encode(good, std::vector<record<word_count>>{{{"w", 1}, 2}});
  CHECK_FALSE(read_batch<word_count>(batch_bytes(good)));

  auto truncated = good;
  truncated.pop_back();
  auto longer = good;
  longer.push_back(0);
  std::vector<char> huge_count{'\xff', '\xff', '\xff', '\xff', '\x0f'};
  std::vector<char> long_string{1, '\x7f', 'w'};
  std::vector<char> endless_count(11, '\xff');
  for (const auto& block : {truncated, longer, huge_count, long_string, endless_count}) {
    auto err = read_batch<word_count>(batch_bytes(block));
    CHECK(err == caf::sec::invalid_argument);
    CHECK_THAT(caf::to_string(err), Catch::Contains("malformed batch"));
  }
  std::vector<char> bad_bool{1, 2, 0, 0, 0, 0, 0, 0, 0, 0};
  CHECK(read_batch<bool>(batch_bytes(bad_bool)) == caf::sec::invalid_argument);
}

TEST_CASE_METHOD(system_fixture,
                 "the protocol's messages are registered for type-erased transport") {
  // A caf::message names the types it holds: they must be registered to be read back.
  auto msg = caf::make_message(some_batch(), credit_msg{1, 2, 3}, barrier_msg{0, 4, 5, 6});
  std::vector<char> bytes;
  caf::binary_serializer sink{sys, bytes};
  REQUIRE_FALSE(sink(msg));
  caf::message copy;
  caf::binary_deserializer source{sys, bytes};
  REQUIRE_FALSE(source(copy));
  REQUIRE(copy.match_elements<batch<std::string>, credit_msg, barrier_msg>());
  CHECK(copy.get_as<batch<std::string>>(0).records.at(0).value == "alpha");
  CHECK(copy.get_as<credit_msg>(1).records == 2);
  CHECK(copy.get_as<barrier_msg>(2).checkpoint == 4);
}

namespace {

/// words (2) -> key_by -> count (3) -> collect; the final count per word.
std::vector<std::pair<std::string, int64_t>> final_counts(runtime_config config) {
  std::vector<std::string> words;
  for (int i = 0; i < 5000; ++i)
    words.push_back("w" + std::to_string(i * 7 % 113));
  test::changelog out;
  pipeline p{"serialized"};
  p.source(from_collection(words))
    .parallelism(2)
    .key_by([](const std::string& w) { return w; })
    .count()
    .parallelism(3)
    .sink(collect(out));
  runtime rt{config};
  auto err = rt.run(p);
  INFO(describe(err));
  REQUIRE_FALSE(err);
  auto last = test::last_per_key(out);
  return {last.begin(), last.end()};
}

} // namespace

TEST_CASE(
  "a keyed pipeline whose messages are serialized on the way gets the plain run's results") {
  auto config = test::small_batches();
  config.mode = execution_mode::streaming;
  auto plain = final_counts(config);
  config.serialize_messages = true;
  auto serialized = final_counts(config);
  CHECK(plain.size() == 113);
  CHECK(serialized == plain);
}

TEST_CASE("a killed instance recovers exactly while every message is serialized on the way") {
  test::temp_dir state;
  auto config = test::recovery_config(state);
  config.serialize_messages = true;
  constexpr uint64_t records = 100'000;
  test::changelog out;
  pipeline p{"serialized-recovery"};
  p.source(generate<std::string>(test::key_of, {records, 100'000}))
    .parallelism(2)
    .name("words")
    .key_by([](const std::string& w) { return w; })
    .count()
    .parallelism(2)
    .name("count")
    .sink(collect(out))
    .name("out");
  runtime rt{config};
  auto j = rt.start(p);
  REQUIRE(j);
  REQUIRE(test::wait_for_checkpoint(*j, 2));
  REQUIRE_FALSE(j->kill("count", 1));
  test::check_ends_exact(*j, out, records);
}
