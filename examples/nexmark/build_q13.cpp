#include <utility>

#include "nexmark/build_query.hpp"
#include "nexmark/q13.hpp"

namespace sluice::nexmark::queries {

void build_q13(stream<event> events, const query_inputs& inputs, const results_sink& sink) {
  sink(q13(std::move(events), inputs.side));
}

} // namespace sluice::nexmark::queries
