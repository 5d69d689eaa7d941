// timed source ──┐
//                ├─ union -> process (records watermarks) -> collect
// stalled source ┘  (watermark 5, then idle or not)

#include <catch2/catch.hpp>

#include <atomic>
#include <mutex>

#include "support/test_support.hpp"

using namespace sluice;
using namespace std::chrono_literals;

namespace {

/// What the watermark-recording operator saw, shared with the test and the stalled source.
struct observations {
  std::mutex mutex;
  std::vector<timestamp> watermarks;
  std::atomic<int> records{0};
  std::atomic<bool> release{false};

  std::vector<timestamp> seen() {
    std::lock_guard<std::mutex> guard{mutex};
    return watermarks;
  }
};

/// Emits watermark 5 and no records; optionally declares itself idle; ends when released.
struct stalled_source {
  using output_type = int;
  bool go_idle = true;
  std::shared_ptr<observations> obs;

  bool bounded() const { return true; }

  source_step produce(source_context<int>& ctx, size_t) {
    if (obs->release.load())
      return source_step::done();
    ctx.emit_watermark(5);
    if (go_idle)
      ctx.mark_idle(true);
    return source_step::wait(1ms);
  }
};

/// Records every watermark the operator instance sees and passes records on.
struct watermark_recorder {
  std::shared_ptr<observations> obs;

  void process(const int& x, context<int>& ctx) {
    obs->records.fetch_add(1);
    ctx.emit(x);
  }

  void on_watermark(timestamp time, context<int>&) {
    std::lock_guard<std::mutex> guard{obs->mutex};
    obs->watermarks.push_back(time);
  }
};

std::vector<int> numbers(int n) {
  std::vector<int> v;
  for (int i = 0; i < n; ++i)
    v.push_back(i);
  return v;
}

} // namespace

TEST_CASE("an operator's watermark is the minimum over its inputs, excluding an idle input") {
  for (bool go_idle : {true, false}) {
    INFO("stalled input declares itself idle: " << go_idle);
    auto obs = std::make_shared<observations>();
    pipeline p{"watermarks"};
    std::vector<int> out;
    auto timed =
      p.source(from_collection(numbers(1000), [](const int& x) { return timestamp{x}; }));
    auto stalled = p.source(stalled_source{go_idle, obs});
    timed.union_with(stalled).process<int>(watermark_recorder{obs}).sink(collect(out));
    runtime rt{test::small_batches()};
    auto job = rt.start(p);
    REQUIRE(job);
    REQUIRE(test::eventually([&] { return obs->records.load() == 1000; }));
    if (go_idle) {
      // The stalled input is idle, so the timed input alone drives the watermark to its end.
      REQUIRE(test::eventually([&] {
        auto w = obs->seen();
        return !w.empty() && w.back() >= 999;
      }));
    } else {
      // The timed input has ended (its end of stream follows its last record) but the stalled
      // one holds the watermark at 5. Give stragglers a moment, then check it never passed 5.
      std::this_thread::sleep_for(50ms);
      for (auto w : obs->seen())
        CHECK(w <= 5);
    }
    obs->release = true;
    REQUIRE_FALSE(job->wait());
    auto w = obs->seen();
    REQUIRE_FALSE(w.empty());
    CHECK(std::is_sorted(w.begin(), w.end()));
    CHECK(std::adjacent_find(w.begin(), w.end()) == w.end());
    CHECK(w.back() == max_timestamp);
    CHECK(out.size() == 1000);
  }
}

TEST_CASE("a watermark lets records as far behind the newest as the delay allows through") {
  CHECK(watermark_behind(100, 5) == 94); // a record at 95 is on time
  CHECK(watermark_behind(0, 0) == -1);
  CHECK(watermark_behind(-1'000, 10) == -1'011);
  CHECK(watermark_behind(min_timestamp + 3, 5) == min_timestamp);
  CHECK(watermark_behind(min_timestamp, 0) == min_timestamp);
  CHECK(watermark_behind(max_timestamp, 0) == max_timestamp - 1);
}
