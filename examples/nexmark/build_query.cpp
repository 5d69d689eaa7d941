#include "nexmark/build_query.hpp"

#include <map>
#include <stdexcept>
#include <utility>

namespace sluice::nexmark::queries {

void build_query(const std::string& name, stream<event> events, const query_inputs& inputs,
                 const results_sink& sink) {
  using builder = void (*)(stream<event>, const query_inputs&, const results_sink&);
  static const std::map<std::string, builder> builders{
    {"q0", &build_q0},   {"q1", &build_q1},   {"q2", &build_q2},   {"q3", &build_q3},
    {"q4", &build_q4},   {"q5", &build_q5},   {"q6", &build_q6},   {"q7", &build_q7},
    {"q8", &build_q8},   {"q9", &build_q9},   {"q10", &build_q10}, {"q11", &build_q11},
    {"q12", &build_q12}, {"q13", &build_q13}, {"q14", &build_q14},
  };
  auto b = builders.find(name);
  if (b == builders.end())
    throw std::invalid_argument("there is no Nexmark query '" + name + "' (there are " + query_names
                                + ")");
  b->second(std::move(events), inputs, sink);
}

} // namespace sluice::nexmark::queries
