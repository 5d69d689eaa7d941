#include <utility>

#include "nexmark/build_query.hpp"
#include "nexmark/q12.hpp"

namespace sluice::nexmark::queries {

void build_q12(stream<event> events, const query_inputs&, const results_sink& sink) {
  sink(q12(std::move(events)));
}

} // namespace sluice::nexmark::queries
