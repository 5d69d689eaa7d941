#include <utility>

#include "nexmark/build_query.hpp"
#include "nexmark/q5.hpp"

namespace sluice::nexmark::queries {

void build_q5(stream<event> events, const query_inputs&, const results_sink& sink) {
  sink(q5(std::move(events)));
}

} // namespace sluice::nexmark::queries
