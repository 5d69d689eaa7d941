// Upper-cases generated events and prints each one as it passes (Kafka Streams' mapValues + peek).
//
// Usage: uppercase [COUNT]   (COUNT events, default 20)

#include <cctype>
#include <charconv>
#include <cstdint>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

#include "sluice/all.hpp"

int main(int argc, char** argv) {
  uint64_t count = 20;
  if (argc > 2) {
    std::cerr << "usage: uppercase [COUNT]\n";
    return 2;
  }
  if (argc == 2) {
    std::string_view arg = argv[1];
    auto [end, ec] = std::from_chars(arg.data(), arg.data() + arg.size(), count);
    if (ec != std::errc{} || end != arg.data() + arg.size()) {
      std::cerr << "uppercase: COUNT must be a number, not '" << arg << "'\n";
      return 2;
    }
  }

  std::vector<std::string> out;
  sluice::pipeline p{"uppercase"};
  p.source(sluice::generate<std::string>([](uint64_t i) { return "event-" + std::to_string(i); },
                                         {.count = count}))
    .name("events")
    .map([](std::string s) {
      for (auto& c : s)
        c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      return s;
    })
    .name("to-upper")
    .peek([](const std::string& s) { std::cout << "peek: " << s << '\n'; })
    .name("peek")
    .sink(sluice::collect(out));

  sluice::runtime rt;
  if (auto err = rt.run(p)) {
    std::cerr << "uppercase: " << sluice::describe(err) << '\n';
    return 1;
  }
  std::cout << "collected " << out.size() << " records\n";
  return 0;
}
