#include <utility>

#include "nexmark/build_query.hpp"
#include "nexmark/q8.hpp"

namespace sluice::nexmark::queries {

void build_q8(stream<event> events, const query_inputs&, const results_sink& sink) {
  sink(q8(std::move(events)));
}

} // namespace sluice::nexmark::queries
