#include <utility>

#include "nexmark/build_query.hpp"
#include "nexmark/q1.hpp"

namespace sluice::nexmark::queries {

void build_q1(stream<event> events, const query_inputs&, const results_sink& sink) {
  sink(q1(std::move(events)));
}

} // namespace sluice::nexmark::queries
