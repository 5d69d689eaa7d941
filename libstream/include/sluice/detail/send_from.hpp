#pragma once

#include <utility>

#include <caf/local_actor.hpp>
#include <caf/message_id.hpp>

namespace sluice::detail {

/// Sends a message from inside actor `self` without a sender address.
///
/// Unlike `caf::anon_send`, this hands CAF the sender's execution unit, so a receiver that becomes
/// ready is scheduled on the sender's worker (its local queue) instead of through the scheduler's
/// shared queue: a chain of stages then runs like a pipeline of function calls on one worker.
template <class Dest, class Message>
void send_from(caf::local_actor* self, const Dest& dest, Message&& msg) {
  if (dest)
    dest->eq_impl(caf::make_message_id(), nullptr, self->context(), std::forward<Message>(msg));
}

} // namespace sluice::detail
