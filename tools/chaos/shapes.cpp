#include "shapes.hpp"

#include <algorithm>
#include <chrono>
#include <span>

#include "sluice/operators/kafka_sink.hpp"

namespace chaos {

namespace {

using sluice::pipeline;
using sluice::stream;

uint64_t key_of(const uint64_t& v) {
  return v % keys;
}

uint64_t add(uint64_t sum, const uint64_t& v) {
  return sum + v;
}

uint64_t same(uint64_t v) {
  return v;
}

/// A bounded generator of the numbers first + 1, ..., first + count at `rate` records/s.
auto numbers(uint64_t first, uint64_t count, double rate) {
  return sluice::generate<uint64_t>([first](uint64_t i) { return first + i + 1; }, {count, rate});
}

/// Numbers as `numbers` does, each with itself as its event time (the watermark follows).
auto timed_numbers(uint64_t first, uint64_t count, double rate) {
  return sluice::generate<uint64_t>(
    [first](uint64_t i) { return first + i + 1; }, {count, rate},
    [](uint64_t, const uint64_t& v) { return static_cast<sluice::timestamp>(v); });
}

/// A running sum per key whose numbers wait for a timer before they count: an odd number for a
/// processing-time timer 1 ms on, an even one for an event-time timer 5 ms after its own time.
/// A timer adds the key's waiting numbers of its clock one by one, emitting each sum, so the
/// results are a running sum as the other shapes' (the verdict holds) while a replay must fire
/// the same timers at the same points of its input to line up with what it emitted before.
struct delayed_sum {
  using context = sluice::keyed_context<uint64_t, sum_record>;

  void process(const uint64_t& v, context& ctx) {
    if (v % 2 == 1) {
      ctx.list<uint64_t>("by_processing_time").add(v);
      ctx.register_processing_time_timer(ctx.current_processing_time() + 1);
    } else {
      ctx.list<uint64_t>("by_event_time").add(v);
      ctx.register_event_time_timer(ctx.current_time() + 5);
    }
  }

  void process_first(const uint64_t& v, context& ctx) { process(v, ctx); }
  void process_second(const uint64_t& v, context& ctx) { process(v, ctx); }

  void on_timer(sluice::timestamp, context& ctx) {
    auto waiting = ctx.list<uint64_t>(ctx.timer_domain() == sluice::time_domain::processing_time
                                        ? "by_processing_time"
                                        : "by_event_time");
    auto sum = ctx.value<uint64_t>("sum");
    auto total = sum.value_or(0);
    for (auto v : waiting.get())
      ctx.emit({ctx.key(), total += v});
    sum.update(total);
    waiting.clear();
  }
};

/// A number's session gap: 150 ms, or 50 ms for every fifth number of a key. A key's numbers
/// are `keys` (97) ms apart in event time, so its sessions run over about five numbers, and
/// the two sources' numbers of a key interleave: sessions merge out of order.
std::chrono::milliseconds session_gap(const uint64_t& v) {
  return std::chrono::milliseconds{(v / keys) % 5 == 0 ? 50 : 150};
}

/// Hands on a session's numbers one by one as it fires.
void each_number(const uint64_t&, const sluice::time_window&, std::span<const uint64_t> numbers,
                 sluice::emitter<uint64_t>& out) {
  for (auto v : numbers)
    out(v);
}

/// Ends `s` in the spec's sink, as operator "out" with `parallelism` instances.
void finish(stream<sum_record> s, const job_spec& spec, uint32_t parallelism) {
  auto configure = [&](auto end) {
    end.parallelism(parallelism).name("out").supervision(spec.supervise);
  };
  switch (spec.sink) {
    case sink_kind::collect:
      return configure(s.sink(sluice::collect(*spec.out)));
    case sink_kind::file:
      return configure(s.sink(sluice::write_file(spec.path)));
    case sink_kind::kafka: {
      sluice::kafka_sink_options options;
      options.topic = spec.topic;
      options.properties = {{"bootstrap.servers", spec.bootstrap}};
      options.delivery = sluice::kafka_delivery::exactly_once;
      return configure(s.sink(sluice::kafka_sink(options, sluice::json_serde<sum_record>{})));
    }
  }
}

/// numbers (2) + more (1) -> union -> rebalance -> copy (3) -> key_by -> sum (2) -> out (2)
void union_rebalance(pipeline& p, const job_spec& spec) {
  auto first = spec.records * 2 / 3;
  auto a = p.source(numbers(0, first, spec.rate * 2 / 3));
  a.parallelism(2).name("numbers").supervision(spec.supervise);
  auto b = p.source(numbers(first, spec.records - first, spec.rate / 3));
  b.parallelism(1).name("more").supervision(spec.supervise);
  auto copied = a.union_with(b).rebalance().map(same);
  copied.parallelism(3).name("copy").supervision(spec.supervise);
  auto sums = copied.key_by(key_of).reduce(add);
  sums.parallelism(2).name("sum").supervision(spec.supervise);
  finish(sums, spec, 2);
}

/// numbers (2) -> copy (2) -> key_by -> sum (2) -> out (2)
void chain(pipeline& p, const job_spec& spec) {
  auto s = p.source(numbers(0, spec.records, spec.rate));
  s.parallelism(2).name("numbers").supervision(spec.supervise);
  auto copied = s.map(same);
  copied.parallelism(2).name("copy").supervision(spec.supervise);
  auto sums = copied.key_by(key_of).reduce(add);
  sums.parallelism(2).name("sum").supervision(spec.supervise);
  finish(sums, spec, 2);
}

/// numbers (3) -> key_by -> sum (2) -> out (1): sources straight into a keyed stage.
void shuffle(pipeline& p, const job_spec& spec) {
  auto s = p.source(numbers(0, spec.records, spec.rate));
  s.parallelism(3).name("numbers").supervision(spec.supervise);
  auto sums = s.key_by(key_of).reduce(add);
  sums.parallelism(2).name("sum").supervision(spec.supervise);
  finish(sums, spec, 1);
}

/// numbers (2) -> key_by -> sum with timers (2) -> out (2)
void timers(pipeline& p, const job_spec& spec) {
  auto s = p.source(timed_numbers(0, spec.records, spec.rate));
  s.parallelism(2).name("numbers").supervision(spec.supervise);
  auto sums = s.key_by(key_of).process<sum_record>(delayed_sum{});
  sums.parallelism(2).name("sum").supervision(spec.supervise);
  finish(sums, spec, 2);
}

/// numbers (2) + more (1) -> connect, both keyed -> sum with timers (2) -> out (2)
void connected(pipeline& p, const job_spec& spec) {
  auto first = spec.records * 2 / 3;
  auto a = p.source(timed_numbers(0, first, spec.rate * 2 / 3));
  a.parallelism(2).name("numbers").supervision(spec.supervise);
  auto b = p.source(timed_numbers(first, spec.records - first, spec.rate / 3));
  b.parallelism(1).name("more").supervision(spec.supervise);
  auto sums = a.key_by(key_of).connect(b.key_by(key_of)).process<sum_record>(delayed_sum{});
  sums.parallelism(2).name("sum").supervision(spec.supervise);
  finish(sums, spec, 2);
}

/// numbers (2) -> key_by -> session windows (2) -> key_by -> sum (2) -> out (2): each number
/// reaches the sum once, when its session fires (none is late: a watermark strategy given to
/// the source makes each number its event time, and the watermark of each split trails its
/// newest number).
void windows(pipeline& p, const job_spec& spec) {
  auto s = p.source(numbers(0, spec.records, spec.rate),
                    sluice::monotonous_timestamps().with_timestamps(
                      [](const uint64_t& v) { return static_cast<sluice::timestamp>(v); }));
  s.parallelism(2).name("numbers").supervision(spec.supervise);
  auto fired = s.key_by(key_of)
                 .window(sluice::dynamic_session_window{session_gap})
                 .process<uint64_t>(each_number);
  fired.parallelism(2).name("window").supervision(spec.supervise);
  auto sums = fired.key_by(key_of).reduce(add);
  sums.parallelism(2).name("sum").supervision(spec.supervise);
  finish(sums, spec, 2);
}

} // namespace

const std::vector<shape>& all_shapes() {
  static const std::vector<shape> shapes{
    {"union",
     "numbers (2) + more (1) -> union -> rebalance -> copy (3) -> key_by -> sum (2) -> out (2)",
     {{"numbers", 2}, {"more", 1}, {"copy", 3}, {"sum", 2}, {"out", 2}},
     union_rebalance},
    {"chain",
     "numbers (2) -> copy (2) -> key_by -> sum (2) -> out (2)",
     {{"numbers", 2}, {"copy", 2}, {"sum", 2}, {"out", 2}},
     chain},
    {"shuffle",
     "numbers (3) -> key_by -> sum (2) -> out (1)",
     {{"numbers", 3}, {"sum", 2}, {"out", 1}},
     shuffle},
    {"timers",
     "numbers (2) -> key_by -> sum by event- and processing-time timers (2) -> out (2)",
     {{"numbers", 2}, {"sum", 2}, {"out", 2}},
     timers},
    {"two_inputs",
     "numbers (2) + more (1) -> keyed connect -> sum by timers (2) -> out (2)",
     {{"numbers", 2}, {"more", 1}, {"sum/first", 2}, {"sum/second", 1}, {"sum", 2}, {"out", 2}},
     connected},
    {"windows",
     "numbers (2) -> key_by -> session windows (2) -> key_by -> sum (2) -> out (2)",
     {{"numbers", 2}, {"window", 2}, {"sum", 2}, {"out", 2}},
     windows},
  };
  return shapes;
}

const shape* find_shape(const std::string& name) {
  const auto& shapes = all_shapes();
  auto found =
    std::find_if(shapes.begin(), shapes.end(), [&](const shape& s) { return s.name == name; });
  return found == shapes.end() ? nullptr : &*found;
}

std::string to_string(sink_kind kind) {
  switch (kind) {
    case sink_kind::collect:
      return "collect";
    case sink_kind::file:
      return "file";
    case sink_kind::kafka:
      return "kafka";
  }
  return "?";
}

} // namespace chaos
