// Upper-cases a topic's values into another topic and prints each as it passes (Kafka Streams'
// mapValues + peek, Kafka to Kafka).
//
// Usage: kafka_uppercase [--brokers HOST:PORT]
// Without --brokers it runs on an in-process mock cluster; a real cluster needs topics `events`
// and `events-upper`.

#include <cctype>
#include <iostream>
#include <string>
#include <vector>

#include "kafka_demo.hpp"

int main(int argc, char** argv) {
  auto kafka = demo::connect(argc, argv, "kafka_uppercase [--brokers HOST:PORT]",
                             {{"events", 2}, {"events-upper", 2}});
  std::vector<std::string> events;
  for (int i = 0; i < 10; ++i)
    events.push_back("event-" + std::to_string(i));
  demo::fill(kafka, "events", events, sluice::string_serde{});

  sluice::pipeline p{"uppercase"};
  p.source(sluice::kafka_source(demo::reading(kafka, "events", "uppercase")))
    .map([](std::string s) {
      for (auto& c : s)
        c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      return s;
    })
    .name("to-upper")
    .peek([](const std::string& s) { std::cout << "peek: " << s << '\n'; })
    .sink(sluice::kafka_sink(demo::writing(kafka, "events-upper")));
  sluice::runtime rt;
  demo::check(rt.run(p));
  std::cout << "events-upper holds "
            << demo::read_all(kafka, "events-upper", sluice::string_serde{}).size() << " records\n";
  return 0;
}
