#pragma once

// What the Kafka examples share: where Kafka is (`--brokers HOST:PORT`, or an in-process mock
// cluster), and filling and reading a topic with small Sluice pipelines.

#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sluice/all.hpp"
#include "sluice/operators/kafka_sink.hpp"
#include "sluice/operators/kafka_source.hpp"

namespace demo {

/// The Kafka an example talks to.
struct kafka {
  std::string bootstrap;
  /// Set when no broker was given.
  std::unique_ptr<sluice::kafka::mock_cluster> mock;
};

/// Parses `[--brokers HOST:PORT]`. Without it, starts a mock cluster holding `topics` (name,
/// partitions); a real cluster must have them already. Exits with a usage message on anything
/// else.
inline kafka connect(int argc, char** argv, std::string_view usage,
                     const std::vector<std::pair<std::string, int>>& topics) {
  kafka k;
  if (argc == 3 && std::string_view{argv[1]} == "--brokers") {
    k.bootstrap = argv[2];
    return k;
  }
  if (argc != 1) {
    std::cerr << "usage: " << usage << "\n";
    std::exit(2);
  }
  k.mock = std::make_unique<sluice::kafka::mock_cluster>();
  k.bootstrap = k.mock->bootstrap();
  for (const auto& [topic, partitions] : topics)
    k.mock->create_topic(topic, partitions);
  std::cout << "Kafka: a mock cluster at " << k.bootstrap
            << " (--brokers HOST:PORT for a real one)\n";
  return k;
}

/// Fails the example with Sluice's description of `err`, if there is one.
inline void check(const caf::error& err) {
  if (err) {
    std::cerr << sluice::describe(err) << "\n";
    std::exit(1);
  }
}

inline sluice::kafka_source_options reading(const kafka& k, std::string topic, std::string group) {
  sluice::kafka_source_options options;
  options.topic = std::move(topic);
  options.properties = {{"bootstrap.servers", k.bootstrap}, {"group.id", std::move(group)}};
  options.bounded = true;
  return options;
}

inline sluice::kafka_sink_options writing(const kafka& k, std::string topic) {
  sluice::kafka_sink_options options;
  options.topic = std::move(topic);
  options.properties = {{"bootstrap.servers", k.bootstrap}};
  return options;
}

/// Writes `values` to `topic`, encoded by `serde` (a pair of serdes for keyed values).
template <class T, class... Serdes>
void fill(const kafka& k, const std::string& topic, std::vector<T> values, Serdes... serdes) {
  sluice::pipeline p{"fill-" + topic};
  p.source(sluice::from_collection(std::move(values)))
    .sink(sluice::kafka_sink(writing(k, topic), serdes...));
  sluice::runtime rt;
  check(rt.run(p));
}

/// Everything in `topic` now, decoded by `serdes`.
template <class... Serdes>
auto read_all(const kafka& k, const std::string& topic, Serdes... serdes) {
  using source = decltype(sluice::kafka_source(reading(k, topic, ""), serdes...));
  std::vector<typename source::output_type> out;
  sluice::pipeline p{"read-" + topic};
  p.source(sluice::kafka_source(reading(k, topic, "demo-reader"), serdes...))
    .sink(sluice::collect(out));
  sluice::runtime rt;
  check(rt.run(p));
  return out;
}

} // namespace demo
