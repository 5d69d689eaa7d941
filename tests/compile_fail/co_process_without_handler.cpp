// A two-input operator needs a handler for each input.
// expect: process_second(const B&, sluice::context<Out>&)
#include "sluice/all.hpp"

struct first_only {
  void process_first(const int&, sluice::context<int>&) {}
};

int main() {
  sluice::pipeline p{"one-handler"};
  std::vector<int> out;
  auto numbers = p.source(sluice::from_collection(std::vector<int>{1, 2}));
  auto words = p.source(sluice::from_collection(std::vector<std::string>{"a", "b"}));
  numbers.connect(words).process<int>(first_only{}).sink(sluice::collect(out));
}
