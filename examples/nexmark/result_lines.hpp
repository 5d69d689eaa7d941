#pragma once

#include <string>
#include <type_traits>

#include "sluice/operators/emitter.hpp"
#include "sluice/tables/table_change.hpp"

#include "nexmark/views.hpp" // to_csv of a bid, which argument-dependent lookup does not find

namespace sluice::nexmark::queries {

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
