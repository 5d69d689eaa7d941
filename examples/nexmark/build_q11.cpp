#include <utility>

#include "nexmark/build_query.hpp"
#include "nexmark/q11.hpp"

namespace sluice::nexmark::queries {

void build_q11(stream<event> events, const query_inputs&, const results_sink& sink) {
  sink(q11(std::move(events)));
}

} // namespace sluice::nexmark::queries
