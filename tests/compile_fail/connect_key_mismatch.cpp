// Two keyed streams with different key types cannot meet in one keyed two-input operator.
// expect: connect: both keyed streams need the same key type
#include "sluice/all.hpp"

struct both {
  void process_first(const int&, sluice::keyed_context<int, int>&) {}
  void process_second(const std::string&, sluice::keyed_context<int, int>&) {}
};

int main() {
  sluice::pipeline p{"mismatch"};
  std::vector<int> out;
  auto numbers = p.source(sluice::from_collection(std::vector<int>{1, 2}));
  auto words = p.source(sluice::from_collection(std::vector<std::string>{"a", "b"}));
  numbers.key_by([](const int& x) { return x; })
    .connect(words.key_by([](const std::string& w) { return w; }))
    .process<int>(both{})
    .sink(sluice::collect(out));
}
