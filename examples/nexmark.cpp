// Runs one query of the Nexmark benchmark (an online auction's persons, auctions and bids) over
// generated events or events read from JSON lines, and writes the generated events as JSON lines
// for another system to read the very same ones. The queries are in examples/nexmark/, one file
// each; docs/nexmark.md says what each computes and where it differs from Flink's and Beam's.
//
// Usage: nexmark --query qN [--events N] [--event-rate EVENTS_PER_S] [--rate EVENTS_PER_S]
//                [--parallelism P] [--seed S] [--from-json FILE|TOPIC] [--side-input FILE]
//                [--out FILE] [--state-dir DIR] [--brokers HOST:PORT]
//        nexmark --write-json FILE|TOPIC [--events N] [--event-rate EVENTS_PER_S] [--seed S]
//                [--brokers HOST:PORT]
//
// Results go to --out as comma-separated lines (queries whose results change as a changelog:
// +I, -U, +U, -D; q10 into a directory tree of its own), exactly once with --state-dir, whose
// checkpoints (every 100 ms) a run killed midway restores from; without --out they are only
// counted, as Flink's Nexmark sends them to a blackhole sink. --event-rate sets how many events the
// generator makes per second of event time (default 10,000, as Flink's Nexmark), --rate how many
// per second of wall-clock time (default: as fast as it goes).

#include <unistd.h>

#include <charconv>
#include <chrono>
#include <cstdint>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

#include "sluice/all.hpp"
#include "sluice/nexmark/generator.hpp"
#include "sluice/nexmark/json.hpp"
#include "sluice/operators/kafka_sink.hpp"
#include "sluice/operators/kafka_source.hpp"
#include "sluice/serde.hpp"
#include "sluice/watermark_strategy.hpp"

#include "nexmark/build_query.hpp"
#include "nexmark/results_sink.hpp"

namespace {

namespace nexmark = sluice::nexmark;
namespace queries = sluice::nexmark::queries;

constexpr std::string_view usage =
  "usage: nexmark --query qN [--events N] [--event-rate EVENTS_PER_S] [--rate EVENTS_PER_S]\n"
  "               [--parallelism P] [--seed S] [--from-json FILE|TOPIC] [--side-input FILE]\n"
  "               [--out FILE] [--state-dir DIR] [--brokers HOST:PORT]\n"
  "       nexmark --write-json FILE|TOPIC [--events N] [--event-rate EVENTS_PER_S] [--seed S]\n"
  "               [--brokers HOST:PORT]\n";

struct options {
  std::string query;
  std::string write_json;
  std::string from_json;
  std::string side_input;
  std::string out;
  std::string state_dir;
  std::string brokers;
  uint64_t events = 10'000'000;
  double event_rate = 10'000;
  double rate = 0;
  uint32_t parallelism = 1;
  uint64_t seed = 0;
};

template <class Number>
Number number(std::string_view flag, std::string_view text) {
  Number n{};
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (error != std::errc{} || end != text.data() + text.size())
    throw std::invalid_argument(std::string{flag} + " expects a number, not '" + std::string{text}
                                + "'");
  return n;
}

options parse(int argc, char** argv) {
  options o;
  for (int i = 1; i < argc; ++i) {
    std::string_view flag = argv[i];
    if (i + 1 == argc)
      throw std::invalid_argument(std::string{flag} + " needs a value");
    std::string_view value = argv[++i];
    if (flag == "--query")
      o.query = value;
    else if (flag == "--write-json")
      o.write_json = value;
    else if (flag == "--from-json")
      o.from_json = value;
    else if (flag == "--side-input")
      o.side_input = value;
    else if (flag == "--out")
      o.out = value;
    else if (flag == "--state-dir")
      o.state_dir = value;
    else if (flag == "--brokers")
      o.brokers = value;
    else if (flag == "--events")
      o.events = number<uint64_t>(flag, value);
    else if (flag == "--event-rate")
      o.event_rate = number<double>(flag, value);
    else if (flag == "--rate")
      o.rate = number<double>(flag, value);
    else if (flag == "--parallelism")
      o.parallelism = number<uint32_t>(flag, value);
    else if (flag == "--seed")
      o.seed = number<uint64_t>(flag, value);
    else
      throw std::invalid_argument("unknown option " + std::string{flag});
  }
  if (o.query.empty() == o.write_json.empty())
    throw std::invalid_argument("give either --query or --write-json");
  if (o.event_rate <= 0)
    throw std::invalid_argument("--event-rate must be positive");
  if (o.parallelism == 0)
    throw std::invalid_argument("--parallelism must be at least 1");
  return o;
}

/// The events: generated, or read from JSON lines in Flink's layout, in a file or (with
/// --brokers) a Kafka topic, with Flink's Nexmark watermark, 4 s behind the newest event time.
sluice::stream<nexmark::event> events(sluice::pipeline& p, const options& o) {
  if (o.from_json.empty()) {
    auto generated = p.source(nexmark::source(
      {.events = o.events, .event_rate = o.event_rate, .wall_clock_rate = o.rate, .seed = o.seed}));
    generated.name("events");
    return generated;
  }
  auto flink_watermarks =
    sluice::bounded_out_of_orderness(nexmark::watermark_delay)
      .with_timestamps([](const nexmark::event& e) { return nexmark::date_time_of(e); });
  if (!o.brokers.empty()) {
    // A group of its own: every run reads the whole topic (a restored run resumes from its
    // checkpoint, not from the group's offsets). Watermarks per partition, as Flink's.
    sluice::kafka_source_options topic;
    topic.topic = o.from_json;
    topic.properties = {{"bootstrap.servers", o.brokers},
                        {"group.id", p.name() + "-" + std::to_string(getpid())}};
    topic.bounded = true;
    auto read =
      p.source(sluice::kafka_source(topic, sluice::json_serde<nexmark::event>{}), flink_watermarks);
    read.name("events");
    return read;
  }
  auto lines = p.source(sluice::text_file(o.from_json));
  lines.name("json");
  auto decoded = lines.map(
    [](const std::string& line) { return sluice::json_serde<nexmark::event>{}.decode(line); });
  decoded.name("events");
  return decoded.assign_watermarks(flink_watermarks);
}

/// Writes the events as JSON lines into the file or (with --brokers) the Kafka topic
/// --write-json names.
void write_json(sluice::pipeline& p, const options& o) {
  auto json = events(p, o).map(
    [](const nexmark::event& e) { return sluice::json_serde<nexmark::event>{}.encode(e); });
  json.name("json");
  if (o.brokers.empty()) {
    json.sink(sluice::write_file(o.write_json)).name("out");
    return;
  }
  sluice::kafka_sink_options topic;
  topic.topic = o.write_json;
  topic.properties = {{"bootstrap.servers", o.brokers}};
  json.sink(sluice::kafka_sink(topic)).name("out");
}

int run(const options& o) {
  sluice::runtime_config config;
  config.default_parallelism = o.parallelism;
  if (!o.state_dir.empty()) {
    config.state_dir = o.state_dir;
    config.checkpoint_interval = std::chrono::milliseconds{100};
  }
  sluice::pipeline p{o.write_json.empty() ? "nexmark-" + o.query : "nexmark-json"};
  std::shared_ptr<std::atomic<uint64_t>> count;
  if (!o.write_json.empty()) {
    write_json(p, o);
  } else {
    queries::query_inputs inputs;
    if (!o.side_input.empty())
      inputs.side = queries::read_side_input(o.side_input);
    inputs.log_directory = o.out;
    if (o.query == "events") // every event to the sink: the generator alone, for benchmarks
      queries::results_sink{o.out, count}(events(p, o));
    else
      queries::build_query(o.query, events(p, o), inputs, queries::results_sink{o.out, count});
  }
  auto start = std::chrono::steady_clock::now();
  sluice::runtime rt{config};
  if (auto error = rt.run(p)) {
    std::cerr << "nexmark: " << sluice::describe(error) << "\n";
    return 1;
  }
  std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
  std::cout << p.name() << ": done in " << took.count() << " s";
  if (count)
    std::cout << ", " << count->load() << " results";
  std::cout << "\n";
  return 0;
}

} // namespace

int main(int argc, char** argv) {
  if (argc == 2 && (std::string_view{argv[1]} == "--help" || std::string_view{argv[1]} == "-h")) {
    std::cout << usage;
    return 0;
  }
  try {
    return run(parse(argc, argv));
  } catch (const std::exception& e) {
    std::cerr << "nexmark: " << e.what() << "\n" << usage;
    return 2;
  }
}
