// emit --> partitioner --> batching within credit --> transport (recorded here)
//                                 \--> retention: keep / release / rewind

#include <catch2/catch.hpp>

#include <memory>
#include <variant>
#include <vector>

#include "sluice/detail/output_channels.hpp"

using sluice::barrier_msg;
using sluice::batch;
using sluice::credit_msg;
using sluice::edge_wiring;
using sluice::partitioning;
using sluice::watermark_msg;

namespace {

using sent_element =
  std::variant<batch<int>, watermark_msg, sluice::idle_msg, sluice::end_of_stream_msg, barrier_msg,
               sluice::cancel_msg, sluice::attach_upstream_msg<int>>;

/// Records what the channels send, per output.
struct recorder {
  std::vector<std::pair<uint32_t, sent_element>> sent;

  /// The record values sent on `output`, in order.
  [[nodiscard]] std::vector<int> values(uint32_t output) const {
    std::vector<int> v;
    for (const auto& [o, e] : sent)
      if (const auto* b = std::get_if<batch<int>>(&e); b && o == output)
        for (const auto& r : b->records)
          v.push_back(r.value);
    return v;
  }
};

struct recording_transport {
  std::shared_ptr<recorder> log = std::make_shared<recorder>();

  template <class Message>
  void send(uint32_t output, const sluice::input_actor<int>&, Message&& msg) const {
    log->sent.emplace_back(output, sent_element{std::forward<Message>(msg)});
  }
};

using channels = sluice::detail::output_channels<int, recording_transport>;

edge_wiring<int> edge(partitioning kind, size_t targets) {
  edge_wiring<int> e;
  e.kind = kind;
  e.targets.resize(targets);
  for (size_t i = 0; i < targets; ++i)
    e.targets[i].channel = 0;
  return e;
}

std::vector<edge_wiring<int>> one(edge_wiring<int> e) {
  std::vector<edge_wiring<int>> edges;
  edges.push_back(std::move(e));
  return edges;
}

} // namespace

TEST_CASE("output channels send full batches within credit and the rest on flush") {
  recording_transport t;
  channels out;
  out.configure(t, one(edge(partitioning::forward, 1)), {}, 4, 0, false);
  for (int i = 0; i < 10; ++i)
    out.emit(int{i}, 0);
  CHECK(t.log->sent.empty()); // no credit yet
  CHECK(out.blocked());
  out.add_credit(credit_msg{0, 6, 0});
  CHECK(t.log->values(0) == std::vector<int>{0, 1, 2, 3, 4, 5});
  out.add_credit(credit_msg{0, 10, 0});
  CHECK(t.log->values(0).size() == 8); // a partial batch waits for a flush
  out.flush();
  CHECK(t.log->values(0) == std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9});
  CHECK(out.records_sent() == 10);
  CHECK(out.empty());
}

TEST_CASE("a marker waits behind records that lack credit and keeps its place") {
  recording_transport t;
  channels out;
  out.configure(t, one(edge(partitioning::forward, 1)), {}, 4, 0, false);
  out.emit(1, 0);
  out.broadcast(watermark_msg{0, 50});
  out.emit(2, 0);
  out.add_credit(credit_msg{0, 1, 0});
  REQUIRE(t.log->sent.size() == 2);
  CHECK(std::holds_alternative<batch<int>>(t.log->sent[0].second));
  const auto& w = std::get<watermark_msg>(t.log->sent[1].second);
  CHECK(w.time == 50);
  CHECK(w.seq == 1); // sequence numbers count records and markers alike
}

TEST_CASE("credit granted by a replaced downstream incarnation is void") {
  recording_transport t;
  channels out;
  out.configure(t, one(edge(partitioning::forward, 1)), {}, 2, 0, false);
  out.emit(1, 0);
  out.emit(2, 0);
  out.add_credit(credit_msg{0, 5, 3});
  CHECK(t.log->sent.empty());
}

TEST_CASE("retained output is released by a completed checkpoint and rewound for a restart") {
  recording_transport t;
  channels out;
  out.configure(t, one(edge(partitioning::forward, 1)), {}, 2, 0, true);
  out.add_credit(credit_msg{0, 100, 0});
  out.emit(1, 0);
  out.emit(2, 0);
  out.broadcast(barrier_msg{0, 1});
  out.emit(3, 0);
  out.emit(4, 0);
  CHECK(out.records_retained() == 4);
  out.release(1);
  CHECK(out.records_retained() == 2); // what came before checkpoint 1's barrier
  // The downstream restarted with element 3 (after the barrier) as its next: it gets 3, 4 again.
  t.log->sent.clear();
  auto error = out.attach(0, {}, 1, 3, 100);
  CHECK_FALSE(error);
  CHECK(t.log->values(0) == std::vector<int>{3, 4});
  // Element 0 is gone: asking for it is an error naming what is kept.
  auto too_old = out.attach(0, {}, 2, 0, 100);
  REQUIRE(too_old);
  CHECK(too_old->find("from element 3") != std::string::npos);
}

TEST_CASE("a restarted incarnation emits what its downstream has without sending it") {
  recording_transport t;
  channels out;
  out.configure(t, one(edge(partitioning::rebalance, 2)), {}, 2, 1, true);
  out.resume_at({0, 0}, 0);
  out.say_hello({});
  CHECK(std::holds_alternative<sluice::attach_upstream_msg<int>>(t.log->sent[0].second));
  t.log->sent.clear();
  for (int i = 0; i < 6; ++i)
    out.emit(int{i}, 0);
  CHECK(t.log->sent.empty()); // not attached yet
  // Output 0's downstream has its first two records already; output 1's has none.
  CHECK_FALSE(out.attach(0, {}, 0, 2, 100));
  CHECK_FALSE(out.attach(1, {}, 0, 0, 100));
  out.flush();
  CHECK(t.log->values(0) == std::vector<int>{4, 5});
  CHECK(t.log->values(1) == std::vector<int>{2, 3});
}

TEST_CASE("output channels route every record through each edge") {
  recording_transport t;
  channels out;
  std::vector<edge_wiring<int>> edges;
  edges.push_back(edge(partitioning::forward, 1));
  edges.push_back(edge(partitioning::broadcast, 2));
  out.configure(t, std::move(edges), {}, 8, 0, false);
  for (uint32_t o = 0; o < 3; ++o)
    out.add_credit(credit_msg{o, 10, 0});
  out.emit(7, 0);
  out.flush();
  CHECK(t.log->values(0) == std::vector<int>{7});
  CHECK(t.log->values(1) == std::vector<int>{7});
  CHECK(t.log->values(2) == std::vector<int>{7});
  CHECK(out.records_emitted() == 1);
}
