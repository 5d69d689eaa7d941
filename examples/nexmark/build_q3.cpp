#include <utility>

#include "nexmark/build_query.hpp"
#include "nexmark/q3.hpp"

namespace sluice::nexmark::queries {

void build_q3(stream<event> events, const query_inputs&, const results_sink& sink) {
  sink(q3(std::move(events)));
}

} // namespace sluice::nexmark::queries
