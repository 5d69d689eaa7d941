// The bare CAF reference of the chain workload: a source actor, 10 stage actors and a sink actor
// passing std::vector<int64_t> of 1024 elements with plain sends. No credit protocol: the only
// flow control is a window of batches in flight, acknowledged by the sink to the source, so
// memory stays bounded.

#include <cstdint>
#include <future>
#include <memory>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/atom.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>

#include "bench.hpp"
#include "chain.hpp"

namespace bench {

namespace {

using ack_atom = caf::atom_constant<caf::atom("benchack")>;
using go_atom = caf::atom_constant<caf::atom("benchgo")>;

constexpr size_t vector_size = 1024;
constexpr uint64_t window = 64;

struct source_state {
  caf::actor first;
  uint64_t next = 0;
  uint64_t total = 0;
  uint64_t in_flight = 0;
};

void fill(caf::stateful_actor<source_state>* self) {
  auto& st = self->state;
  while (st.in_flight < window && st.next < st.total) {
    auto len = std::min<uint64_t>(vector_size, st.total - st.next);
    std::vector<int64_t> v(len);
    for (uint64_t j = 0; j < len; ++j)
      v[j] = static_cast<int64_t>(st.next + j);
    st.next += len;
    ++st.in_flight;
    self->send(st.first, std::move(v));
  }
}

caf::behavior source(caf::stateful_actor<source_state>* self, uint64_t total) {
  self->state.total = total;
  return {
    [=](go_atom, caf::actor first) {
      self->state.first = std::move(first);
      fill(self);
    },
    [=](ack_atom) {
      --self->state.in_flight;
      fill(self);
    },
  };
}

caf::behavior stage(caf::event_based_actor* self, caf::actor next, int64_t k) {
  return {
    [=](std::vector<int64_t>& v) {
      chain_stage f{k};
      for (auto& x : v)
        x = f(x);
      self->send(next, std::move(v));
    },
  };
}

struct sink_state {
  uint64_t sum = 0;
  uint64_t seen = 0;
};

caf::behavior sink(caf::stateful_actor<sink_state>* self, caf::actor src, uint64_t total,
                   std::shared_ptr<std::promise<uint64_t>> done) {
  return {
    [=](const std::vector<int64_t>& v) {
      auto& st = self->state;
      for (auto x : v)
        st.sum += static_cast<uint64_t>(x);
      st.seen += v.size();
      self->send(src, ack_atom::value);
      if (st.seen == total)
        done->set_value(st.sum);
    },
  };
}

} // namespace

measurement run_caf_chain(const options& opt) {
  auto n = chain_records(opt);
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  auto done = std::make_shared<std::promise<uint64_t>>();
  auto result = done->get_future();
  std::vector<caf::actor> actors;
  auto src = sys.spawn(source, n);
  actors.push_back(src);
  auto next = sys.spawn(sink, src, n, done);
  actors.push_back(next);
  for (int k = chain_stages - 1; k >= 0; --k) {
    next = sys.spawn(stage, next, static_cast<int64_t>(k));
    actors.push_back(next);
  }
  auto m = timed(n, [&] {
    caf::anon_send(src, go_atom::value, next);
    return result.get();
  });
  for (auto& a : actors)
    caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
  return m;
}

} // namespace bench
