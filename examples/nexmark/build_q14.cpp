#include <utility>

#include "nexmark/build_query.hpp"
#include "nexmark/q14.hpp"

namespace sluice::nexmark::queries {

void build_q14(stream<event> events, const query_inputs&, const results_sink& sink) {
  sink(q14(std::move(events)));
}

} // namespace sluice::nexmark::queries
