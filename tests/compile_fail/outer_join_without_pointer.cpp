// A left join's function takes the second side by pointer, as it may have no partner.
// expect: left_join expects fn(const A&, const B*) -> Out (null: no partner)
#include "sluice/all.hpp"

int main() {
  using event = std::pair<int, int>;
  sluice::pipeline p{"left-join"};
  std::vector<int> out;
  auto a = p.source(sluice::from_collection(std::vector<event>{{1, 2}}));
  auto b = p.source(sluice::from_collection(std::vector<event>{{1, 3}}));
  a.key_by(&event::first)
    .interval_join(b.key_by(&event::first), std::chrono::milliseconds{-1},
                   std::chrono::milliseconds{1})
    .left_join([](const event& x, const event& y) { return x.second + y.second; })
    .sink(sluice::collect(out));
}
