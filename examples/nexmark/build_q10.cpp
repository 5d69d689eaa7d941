#include <stdexcept>
#include <utility>

#include "nexmark/build_query.hpp"
#include "nexmark/q10.hpp"

namespace sluice::nexmark::queries {

void build_q10(stream<event> events, const query_inputs& inputs, const results_sink&) {
  if (inputs.log_directory.empty())
    throw std::invalid_argument("q10 writes its log into a directory, and was given none");
  q10(std::move(events), inputs.log_directory);
}

} // namespace sluice::nexmark::queries
