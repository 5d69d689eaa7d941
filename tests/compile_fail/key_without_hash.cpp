// A key type without a stable hash cannot partition a stream.
// expect: key_by: the key type needs a stable hash
#include "sluice/all.hpp"

struct opaque_key {
  int id;
  bool operator==(const opaque_key&) const = default;
};

int main() {
  sluice::pipeline p{"nohash"};
  std::vector<std::pair<opaque_key, int64_t>> out;
  p.source(sluice::from_collection(std::vector<int>{1, 2}))
    .key_by([](const int& x) { return opaque_key{x}; })
    .count()
    .sink(sluice::collect(out));
}
