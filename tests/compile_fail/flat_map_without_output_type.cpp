// A generic flat_map function gives no output type: flat_map<Out>(...) must name it.
// expect: flat_map expects fn(const T&) -> range of Out
#include "sluice/all.hpp"

int main() {
  sluice::pipeline p{"generic"};
  std::vector<int> out;
  p.source(sluice::from_collection(std::vector<int>{1, 2}))
    .flat_map([](const int& x, auto& emit) { emit(x); })
    .sink(sluice::collect(out));
}
