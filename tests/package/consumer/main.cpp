// source(1, 2, 3) -> map(x * 2) -> collect: a user program built against the installed package.
#include <vector>

#include "sluice/all.hpp"

int main() {
  sluice::pipeline p{"consumer"};
  std::vector<int> out;
  p.source(sluice::from_collection(std::vector<int>{1, 2, 3}))
    .map([](int x) { return x * 2; })
    .sink(sluice::collect(out));
  sluice::runtime rt;
  auto err = rt.run(p);
  return (!err && out.size() == 3) ? 0 : 1;
}
