#pragma once

#include <cstdint>
#include <string>

#include <caf/atom.hpp>
#include <caf/meta/type_name.hpp>

#include "sluice/record.hpp"

namespace sluice {

/// Downstream → upstream: the receiver may take `records` more records on output `output`.
struct credit_msg {
  uint32_t output = 0;
  int64_t records = 0;
};

/// Event time on a channel has advanced to `time`: no record older than it follows.
struct watermark_msg {
  channel_index channel = 0;
  timestamp time = min_timestamp;
};

/// The channel declares itself idle (excluded from the watermark minimum) or active again.
struct idle_msg {
  channel_index channel = 0;
  bool idle = true;
};

/// The channel carries no more records.
struct end_of_stream_msg {
  channel_index channel = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, credit_msg& x) {
  return f(caf::meta::type_name("sluice.credit"), x.output, x.records);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, watermark_msg& x) {
  return f(caf::meta::type_name("sluice.watermark"), x.channel, x.time);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, idle_msg& x) {
  return f(caf::meta::type_name("sluice.idle"), x.channel, x.idle);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, end_of_stream_msg& x) {
  return f(caf::meta::type_name("sluice.eos"), x.channel);
}

using start_atom = caf::atom_constant<caf::atom("start")>;
using flush_atom = caf::atom_constant<caf::atom("flush")>;
using produce_atom = caf::atom_constant<caf::atom("produce")>;
using inspect_atom = caf::atom_constant<caf::atom("inspect")>;

} // namespace sluice
