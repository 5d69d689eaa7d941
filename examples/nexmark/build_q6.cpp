#include <utility>

#include "nexmark/build_query.hpp"
#include "nexmark/q6.hpp"

namespace sluice::nexmark::queries {

void build_q6(stream<event> events, const query_inputs&, const results_sink& sink) {
  sink(q6(std::move(events)));
}

} // namespace sluice::nexmark::queries
