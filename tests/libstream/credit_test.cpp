// generate (unbounded, fast) -> map -> slow sink (sleeps per batch)

#include <catch2/catch.hpp>

#include <atomic>
#include <thread>

#include "support/test_support.hpp"

using namespace sluice;
using namespace std::chrono_literals;

namespace {

/// A sink that sleeps on every batch and counts what it saw.
struct slow_sink {
  using input_type = int64_t;
  using output_type = no_output;

  std::shared_ptr<std::atomic<uint64_t>> seen = std::make_shared<std::atomic<uint64_t>>(0);
  std::chrono::microseconds delay{500};

  void on_batch(std::vector<record<int64_t>>& records, context<no_output>&) {
    std::this_thread::sleep_for(delay);
    seen->fetch_add(records.size());
  }
};

uint64_t records_in(const std::vector<instance_stats>& stats, const std::string& op) {
  uint64_t n = 0;
  for (const auto& s : stats)
    if (s.operator_name == op)
      n += s.records_in;
  return n;
}

uint64_t records_out(const std::vector<instance_stats>& stats, const std::string& op) {
  uint64_t n = 0;
  for (const auto& s : stats)
    if (s.operator_name == op)
      n += s.records_out;
  return n;
}

} // namespace

TEST_CASE("a slow sink throttles an unbounded source without growing memory") {
  runtime_config config;
  config.batch_size = 256;
  config.input_buffer = 1024;
  config.input_buffer_limit = 2048;
  pipeline p{"backpressure"};
  slow_sink sink;
  auto seen = sink.seen;
  p.source(generate<int64_t>([](uint64_t i) { return static_cast<int64_t>(i); }))
    .name("source")
    .map([](int64_t x) { return x + 1; })
    .name("map")
    .sink(sink)
    .name("sink");
  runtime rt{config};
  auto job = rt.start(p);
  REQUIRE(job);

  REQUIRE(test::eventually([&] { return seen->load() >= 200 * config.batch_size; }));
  auto rss_before = test::resident_bytes();
  auto seen_before = seen->load();
  REQUIRE(test::eventually([&] { return seen->load() >= seen_before + 600 * config.batch_size; }));
  auto rss_after = test::resident_bytes();
  auto stats = job->inspect();
  job->cancel();
  auto err = job->wait();
  CHECK(describe(err).find("cancelled") != std::string::npos);

  REQUIRE(stats.size() == 3);
  for (const auto& s : stats) {
    INFO(s.operator_name);
    // The invariant of the credit protocol: queued input never exceeds the credit granted,
    // which grows no further than the limit.
    if (s.operator_name != "source") // a source has no inputs
      CHECK(s.input_credit_limit == static_cast<int64_t>(config.input_buffer_limit));
    CHECK(s.peak_queued_per_channel <= config.input_buffer_limit);
    for (auto c : s.output_credit)
      CHECK(c <= static_cast<int64_t>(config.input_buffer_limit));
  }
  // Everything the source sent and the sink has not taken sits in bounded buffers: two
  // channels' credit plus, per sending instance, less than two batches waiting for credit.
  // Instances are sampled one after the other, the source first: its count is older than the
  // sink's, so this can only underestimate what was in flight (signed: it may even go below 0).
  auto in_flight = static_cast<int64_t>(records_out(stats, "source"))
                   - static_cast<int64_t>(records_in(stats, "sink"));
  CHECK(in_flight <= static_cast<int64_t>(2 * config.input_buffer_limit + 4 * config.batch_size));
  // The source spent most of its time blocked on credit.
  for (const auto& s : stats)
    if (s.operator_name == "source")
      CHECK(s.backpressured_ns > s.busy_ns);
  // 600 more batches went through; memory did not follow.
  CHECK(rss_after < rss_before + 16 * 1024 * 1024);
}

TEST_CASE("a cancelled unbounded pipeline ends its job with a cancelled error") {
  pipeline p{"cancel"};
  std::vector<int64_t> out;
  p.source(generate<int64_t>([](uint64_t i) { return static_cast<int64_t>(i); }))
    .filter([](int64_t) { return false; })
    .sink(collect(out));
  runtime rt;
  auto job = rt.start(p);
  REQUIRE(job);
  CHECK_FALSE(job->wait_for(50ms).has_value());
  job->cancel();
  auto err = job->wait();
  REQUIRE(err);
  CHECK(err.code() == static_cast<uint8_t>(errc::cancelled));
}

TEST_CASE("a rate-limited source is throttled to its rate and flushes partial batches") {
  pipeline p{"rate"};
  std::vector<int64_t> out;
  generator_options options;
  options.count = 200;
  options.rate = 2000; // 0.1 s in all
  p.source(generate<int64_t>([](uint64_t i) { return static_cast<int64_t>(i); }, options))
    .sink(collect(out));
  runtime rt;
  auto start = std::chrono::steady_clock::now();
  REQUIRE_FALSE(rt.run(p));
  auto elapsed = std::chrono::steady_clock::now() - start;
  CHECK(out.size() == 200);
  CHECK(elapsed >= 90ms);
}
