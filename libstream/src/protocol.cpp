#include "sluice/protocol.hpp"

#include <vector>

#include "sluice/stats.hpp"

namespace sluice {

void register_protocol(caf::actor_system_config& cfg) {
  cfg.add_message_type<credit_msg>("sluice.credit")
    .add_message_type<watermark_msg>("sluice.watermark")
    .add_message_type<idle_msg>("sluice.idle")
    .add_message_type<end_of_stream_msg>("sluice.eos")
    .add_message_type<barrier_msg>("sluice.barrier")
    .add_message_type<cancel_msg>("sluice.cancel")
    .add_message_type<trigger_checkpoint_msg>("sluice.trigger_checkpoint")
    .add_message_type<checkpoint_ack_msg>("sluice.checkpoint_ack")
    .add_message_type<checkpoint_done_msg>("sluice.checkpoint_done")
    .add_message_type<source_finished_msg>("sluice.source_finished")
    .add_message_type<retention_full_msg>("sluice.retention_full")
    .add_message_type<inject_fault_msg>("sluice.inject_fault")
    .add_message_type<instance_failed_msg>("sluice.instance_failed")
    .add_message_type<restore_point_msg>("sluice.restore_point")
    .add_message_type<instance_replaced_msg>("sluice.instance_replaced")
    .add_message_type<recovery_wiring>("sluice.recovery_wiring")
    .add_message_type<instance_stats>("sluice.instance_stats")
    .add_message_type<std::vector<checkpoint_stats>>("sluice.checkpoint_stats_list");
}

} // namespace sluice
