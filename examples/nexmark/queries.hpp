#pragma once

#include <memory>
#include <stdexcept>
#include <string>
#include <type_traits>

#include "nexmark/q0.hpp"
#include "nexmark/q1.hpp"
#include "nexmark/q10.hpp"
#include "nexmark/q11.hpp"
#include "nexmark/q12.hpp"
#include "nexmark/q13.hpp"
#include "nexmark/q14.hpp"
#include "nexmark/q2.hpp"
#include "nexmark/q3.hpp"
#include "nexmark/q4.hpp"
#include "nexmark/q5.hpp"
#include "nexmark/q6.hpp"
#include "nexmark/q7.hpp"
#include "nexmark/q8.hpp"
#include "nexmark/q9.hpp"

// The Nexmark queries by name, for the programs that run any of them (the nexmark example,
// sluice-bench nexmark).

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

/// Builds query `name` over `events` and hands its results to `use`: a `stream<R>` for queries
/// that append results, a `table<K, V>` for those that update them (q3, q4, q9); q10 ends in
/// files of its own instead.
/// @throws std::invalid_argument if no query has that name, or q10 no directory.
template <class Use>
void with_query(const std::string& name, stream<event> events, const query_inputs& inputs,
                Use&& use) {
  if (name == "q0")
    use(q0(events));
  else if (name == "q1")
    use(q1(events));
  else if (name == "q2")
    use(q2(events));
  else if (name == "q3")
    use(q3(events));
  else if (name == "q4")
    use(q4(events));
  else if (name == "q5")
    use(q5(events));
  else if (name == "q6")
    use(q6(events));
  else if (name == "q7")
    use(q7(events));
  else if (name == "q8")
    use(q8(events));
  else if (name == "q9")
    use(q9(events));
  else if (name == "q10") {
    if (inputs.log_directory.empty())
      throw std::invalid_argument("q10 writes its log into a directory, and was given none");
    q10(events, inputs.log_directory);
  } else if (name == "q11")
    use(q11(events));
  else if (name == "q12")
    use(q12(events));
  else if (name == "q13")
    use(q13(events, inputs.side));
  else if (name == "q14")
    use(q14(events));
  else
    throw std::invalid_argument("there is no Nexmark query '" + name + "' (there are " + query_names
                                + ")");
}

/// A result as a comma-separated line: its fields (see each query's to_csv).
template <class R>
std::string result_line(const R& r) {
  if constexpr (std::is_arithmetic_v<R>)
    return std::to_string(r);
  else
    return to_csv(r);
}

/// A change of a table of results as lines in Flink's changelog notation: "+I,<key>,<row>" for
/// an insert, "-U,<key>,<old row>" and "+U,<key>,<new row>" for an update, "-D,<key>,<old row>"
/// for a delete.
template <class K, class V>
void change_lines(const table_change<K, V>& c, emitter<std::string>& out) {
  auto line = [&](const char* kind, const V& row) {
    out(std::string{kind} + "," + std::to_string(c.key) + "," + result_line(row));
  };
  if (c.old_value)
    line(c.new_value ? "-U" : "-D", *c.old_value);
  if (c.new_value)
    line(c.old_value ? "+U" : "+I", *c.new_value);
}

} // namespace sluice::nexmark::queries
