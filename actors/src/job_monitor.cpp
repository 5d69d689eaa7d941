#include "sluice/actors/job_monitor.hpp"

#include <caf/event_based_actor.hpp>
#include <caf/exit_reason.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>

#include "sluice/error.hpp"

namespace sluice {

void job_outcome::set(caf::error err) {
  {
    std::lock_guard<std::mutex> guard{mutex};
    if (result)
      return;
    result = std::move(err);
  }
  done.notify_all();
}

namespace {

struct monitor_state {
  std::vector<caf::actor> instances;
  size_t running = 0;
  caf::error first_error;
  std::shared_ptr<job_outcome> outcome;
  static inline const char* name = "sluice.job_monitor";
};

void stop_all(caf::stateful_actor<monitor_state>* self) {
  for (auto& a : self->state.instances)
    self->send_exit(a, caf::exit_reason::user_shutdown);
}

caf::behavior job_monitor(caf::stateful_actor<monitor_state>* self,
                          std::vector<caf::actor> instances, std::shared_ptr<job_outcome> outcome) {
  auto& st = self->state;
  st.instances = std::move(instances);
  st.running = st.instances.size();
  st.outcome = std::move(outcome);
  for (auto& a : st.instances)
    self->monitor(a);
  self->set_down_handler([self](caf::down_msg& msg) {
    auto& st = self->state;
    if (msg.reason && msg.reason != caf::exit_reason::user_shutdown && !st.first_error) {
      st.first_error = msg.reason;
      stop_all(self);
    }
    if (--st.running == 0) {
      st.outcome->set(st.first_error);
      self->quit();
    }
  });
  self->set_exit_handler([self](caf::exit_msg& msg) {
    auto& st = self->state;
    if (!st.first_error)
      st.first_error = make_error(errc::cancelled, "job cancelled: " + describe(msg.reason));
    stop_all(self);
  });
  if (st.running == 0) {
    st.outcome->set(caf::error{});
    self->quit();
  }
  return {[](caf::unit_t) {}};
}

} // namespace

caf::actor spawn_job_monitor(caf::actor_system& sys, std::vector<caf::actor> instances,
                             std::shared_ptr<job_outcome> outcome) {
  return sys.spawn(job_monitor, std::move(instances), std::move(outcome));
}

} // namespace sluice
