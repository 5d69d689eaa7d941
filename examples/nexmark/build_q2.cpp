#include <utility>

#include "nexmark/build_query.hpp"
#include "nexmark/q2.hpp"

namespace sluice::nexmark::queries {

void build_q2(stream<event> events, const query_inputs&, const results_sink& sink) {
  sink(q2(std::move(events)));
}

} // namespace sluice::nexmark::queries
