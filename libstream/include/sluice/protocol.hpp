#pragma once

#include <string>

#include <caf/actor_system_config.hpp>

#include "sluice/detail/wiring.hpp"
#include "sluice/interfaces.hpp"
#include "sluice/messages.hpp"
#include "sluice/record.hpp"

namespace sluice {

/// Registers every message type of Sluice's protocol that does not depend on a record type
/// (credit, markers, checkpoints, failure and restore reports, statistics) with CAF under a
/// `sluice.` name, so that they can cross to another process. The runtime calls it for its
/// actor system.
void register_protocol(caf::actor_system_config& cfg);

/// Registers the messages that carry records of type T (batches, attach messages) under names
/// that include `name`, T's name in the protocol.
template <class T>
void register_record_type(caf::actor_system_config& cfg, const std::string& name) {
  static_assert(serializable<T>, "a record type must be serializable to cross processes");
  cfg.add_message_type<batch<T>>("sluice.batch<" + name + ">");
  cfg.add_message_type<attach_upstream_msg<T>>("sluice.attach_upstream<" + name + ">");
  cfg.add_message_type<attach_downstream_msg<T>>("sluice.attach_downstream<" + name + ">");
}

} // namespace sluice
