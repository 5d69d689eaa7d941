// A map function taking std::string cannot read a stream of int.
// expect: map expects fn(T) -> U, fn(const T&) -> U or fn(T&&) -> U
#include "sluice/all.hpp"

int main() {
  sluice::pipeline p{"mismatch"};
  std::vector<int> out;
  p.source(sluice::from_collection(std::vector<int>{1, 2}))
    .map([](const std::string& s) { return s.size(); })
    .sink(sluice::collect(out));
}
