#include <utility>

#include "nexmark/build_query.hpp"
#include "nexmark/q0.hpp"

namespace sluice::nexmark::queries {

void build_q0(stream<event> events, const query_inputs&, const results_sink& sink) {
  sink(q0(std::move(events)));
}

} // namespace sluice::nexmark::queries
