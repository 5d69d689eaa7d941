#pragma once

// The Nexmark queries by name, for the programs that run any of them (the nexmark example, which
// sluice-bench nexmark runs). Each query is built in a source file of its own (build_qN.cpp):
// all of them in one took some 20 GB of memory to compile with sanitizers.

#include <memory>
#include <string>

#include "sluice/nexmark/model.hpp"
#include "sluice/pipeline.hpp"

#include "nexmark/results_sink.hpp"
#include "nexmark/side_input.hpp"

namespace sluice::nexmark::queries {

/// The names of the queries there are.
inline constexpr const char* query_names = "q0-q14";

/// What some queries read besides the events.
struct query_inputs {
  /// q13's.
  std::shared_ptr<const side_input> side = default_side_input();
  /// The directory q10 writes its log into.
  std::string log_directory;
};

/// Builds query `name` over `events` and hands its results to `sink` (a table's as its
/// changes); q10 ends in files of its own instead.
/// @throws std::invalid_argument if no query has that name, or q10 no directory.
void build_query(const std::string& name, stream<event> events, const query_inputs& inputs,
                 const results_sink& sink);

void build_q0(stream<event> events, const query_inputs& inputs, const results_sink& sink);
void build_q1(stream<event> events, const query_inputs& inputs, const results_sink& sink);
void build_q2(stream<event> events, const query_inputs& inputs, const results_sink& sink);
void build_q3(stream<event> events, const query_inputs& inputs, const results_sink& sink);
void build_q4(stream<event> events, const query_inputs& inputs, const results_sink& sink);
void build_q5(stream<event> events, const query_inputs& inputs, const results_sink& sink);
void build_q6(stream<event> events, const query_inputs& inputs, const results_sink& sink);
void build_q7(stream<event> events, const query_inputs& inputs, const results_sink& sink);
void build_q8(stream<event> events, const query_inputs& inputs, const results_sink& sink);
void build_q9(stream<event> events, const query_inputs& inputs, const results_sink& sink);
void build_q10(stream<event> events, const query_inputs& inputs, const results_sink& sink);
void build_q11(stream<event> events, const query_inputs& inputs, const results_sink& sink);
void build_q12(stream<event> events, const query_inputs& inputs, const results_sink& sink);
void build_q13(stream<event> events, const query_inputs& inputs, const results_sink& sink);
void build_q14(stream<event> events, const query_inputs& inputs, const results_sink& sink);

} // namespace sluice::nexmark::queries
