// Copies a topic of text lines to another topic, exactly once (Kafka → Sluice → Kafka).
//
// Usage: kafka_passthrough [--brokers HOST:PORT]
// Without --brokers it runs on an in-process mock cluster; a real cluster needs topics `lines`
// and `lines-copy`. The input is the sample text of examples/data, written to `lines` first.

#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "kafka_demo.hpp"

int main(int argc, char** argv) {
  auto kafka = demo::connect(argc, argv, "kafka_passthrough [--brokers HOST:PORT]",
                             {{"lines", 3}, {"lines-copy", 3}});
  std::vector<std::string> lines;
  std::ifstream sample{"examples/data/sample.txt"};
  for (std::string line; std::getline(sample, line);)
    lines.push_back(line);
  if (lines.empty()) {
    std::cerr << "kafka_passthrough: run me from the repository root (examples/data/sample.txt)\n";
    return 1;
  }
  // On a real cluster earlier runs left lines behind: this run copies what it writes now.
  auto before = demo::read_all(kafka, "lines-copy", sluice::string_serde{}).size();
  demo::fill(kafka, "lines", lines, sluice::string_serde{});

  auto out = demo::writing(kafka, "lines-copy");
  out.delivery = sluice::kafka_delivery::exactly_once;
  sluice::pipeline p{"passthrough"};
  p.source(sluice::kafka_source(demo::reading(kafka, "lines", "passthrough")))
    .parallelism(3)
    .sink(sluice::kafka_sink(out))
    .parallelism(3);
  sluice::runtime_config config;
  config.checkpoint_interval = std::chrono::milliseconds{200};
  sluice::runtime rt{config};
  demo::check(rt.run(p));

  auto copied = demo::read_all(kafka, "lines-copy", sluice::string_serde{}).size() - before;
  std::cout << "copied " << copied << " lines of " << lines.size() << "\n";
  return copied == lines.size() ? 0 : 1;
}
