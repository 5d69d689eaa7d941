#include <utility>

#include "nexmark/build_query.hpp"
#include "nexmark/q9.hpp"

namespace sluice::nexmark::queries {

void build_q9(stream<event> events, const query_inputs&, const results_sink& sink) {
  sink(q9(std::move(events)));
}

} // namespace sluice::nexmark::queries
