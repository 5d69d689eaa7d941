#pragma once

#include <ostream>
#include <string>

#include "sluice/operators/partitioned_file_sink.hpp"

#include "nexmark/views.hpp"

namespace sluice::nexmark::queries {

/// A line of q10's log and the partition it goes to.
struct partitioned_line {
  std::string partition;
  std::string line;

  /// The line alone: the partition is the file's directory.
  friend std::ostream& operator<<(std::ostream& os, const partitioned_line& l) {
    return os << l.line;
  }
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, partitioned_line& x) {
  return f(x.partition, x.line);
}

/// The partition of a time: its day and minute, "dt=yyyy-MM-dd/hm=HH:mm" (UTC).
inline std::string minute_partition(timestamp t) {
  auto text = format_date_time(t); // "yyyy-MM-dd HH:mm:ss.SSS"
  return "dt=" + text.substr(0, 10) + "/hm=" + text.substr(11, 5);
}

/// Query 10, log to file system: every bid as "auction,bidder,price,dateTime,extra" into the
/// directory of the day and minute it was made in under `dir` (Flink's filesystem sink
/// partitioned by `dt` and `hm`), exactly once: in files that appear once the checkpoint that
/// covers them completes (see write_partitioned_files). Flink rolls its files every minute and
/// commits a partition with a success file once the watermark passes its minute by one more;
/// Sluice's files roll with each checkpoint, and it writes no success files.
inline stream<no_output> q10(stream<event> events, std::string dir) {
  auto lines = calc<bid, partitioned_line>(
    std::move(events), "q10", [](bid&& b, emitter<partitioned_line>& out) {
      out(partitioned_line{minute_partition(b.date_time), to_csv(b)});
    });
  auto log =
    lines.sink(write_partitioned_files(std::move(dir), &partitioned_line::partition)).name("log");
  return log;
}

} // namespace sluice::nexmark::queries
