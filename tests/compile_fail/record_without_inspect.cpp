// A record type CAF cannot serialize cannot be a stream's element: records may leave the process.
// expect: Sluice records must be serializable with CAF's inspectors
#include "sluice/all.hpp"

struct reading {
  int sensor;
  double value;
};

int main() {
  sluice::pipeline p{"noinspect"};
  std::vector<reading> out;
  p.source(sluice::from_collection(std::vector<int>{1, 2}))
    .map([](int x) {
      return reading{x, 0.5};
    })
    .sink(sluice::collect(out));
}
