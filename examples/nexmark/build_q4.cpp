#include <utility>

#include "nexmark/build_query.hpp"
#include "nexmark/q4.hpp"

namespace sluice::nexmark::queries {

void build_q4(stream<event> events, const query_inputs&, const results_sink& sink) {
  sink(q4(std::move(events)));
}

} // namespace sluice::nexmark::queries
