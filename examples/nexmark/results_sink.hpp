#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <type_traits>

#include "sluice/nexmark/json.hpp"
#include "sluice/nexmark/model.hpp"
#include "sluice/operators/file_sink.hpp"
#include "sluice/pipeline.hpp"
#include "sluice/serde.hpp"

#include "nexmark/blackhole.hpp"
#include "nexmark/result_lines.hpp"

namespace sluice::nexmark::queries {

/// Sends results (a stream or a table) to --out as lines, or counts them into `count`.
struct results_sink {
  /// The file of the lines; empty: the blackhole.
  const std::string& out;
  std::shared_ptr<std::atomic<uint64_t>>& count;

  template <class Results>
  void operator()(Results results) const {
    if constexpr (requires { typename Results::change_type; })
      (*this)(results.to_stream());
    else
      sink(results);
  }

  template <class R>
  void sink(stream<R> results) const {
    if (out.empty()) {
      blackhole<R> hole;
      count = hole.count;
      results.sink(hole).name("blackhole");
      return;
    }
    auto lines = [&] {
      if constexpr (requires(const R& r) { r.old_value; })
        return results.template flat_map<std::string>(
          [](const R& c, emitter<std::string>& out) { change_lines(c, out); });
      else if constexpr (std::is_same_v<R, event>)
        return results.map([](const R& e) { return json_serde<event>{}.encode(e); });
      else
        return results.map([](const R& r) { return result_line(r); });
    }();
    lines.name("lines");
    lines.sink(write_file(out)).name("out");
  }
};

} // namespace sluice::nexmark::queries
