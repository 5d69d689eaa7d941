#include "shapes.hpp"

#include <algorithm>

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
