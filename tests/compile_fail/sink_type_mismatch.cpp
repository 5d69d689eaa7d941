// A stream of int ending in a sink of std::string must not compile.
// expect: sink: the sink's input type differs from the stream's record type
#include "sluice/all.hpp"

int main() {
  sluice::pipeline p{"mismatch"};
  std::vector<std::string> out;
  p.source(sluice::from_collection(std::vector<int>{1, 2})).sink(sluice::collect(out));
}
