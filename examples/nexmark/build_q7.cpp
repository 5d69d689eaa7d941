#include <utility>

#include "nexmark/build_query.hpp"
#include "nexmark/q7.hpp"

namespace sluice::nexmark::queries {

void build_q7(stream<event> events, const query_inputs&, const results_sink& sink) {
  sink(q7(std::move(events)));
}

} // namespace sluice::nexmark::queries
