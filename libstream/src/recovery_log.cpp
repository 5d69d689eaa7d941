#include "sluice/recovery_log.hpp"

#include <stdexcept>
#include <string>

namespace sluice {

recovery_log::recovery_log(uint64_t checkpoint) {
  checkpoints_.emplace(checkpoint, position{});
}

void recovery_log::handled(channel_index channel, uint64_t elements) {
  if (!run_closed_) {
    if (auto* last = std::get_if<run>(&order_.back()); last && last->channel == channel) {
      last->elements += elements;
      return;
    }
  }
  order_.emplace_back(run{channel, elements});
  run_closed_ = false;
}

void recovery_log::ticked(timestamp time) {
  order_.emplace_back(clock_tick{time});
}

void recovery_log::source_did(const source_event& event) {
  events_.push_back(event);
}

void recovery_log::took(uint64_t checkpoint, position where) {
  where.order_mark = order_end();
  where.events_mark = events_end();
  run_closed_ = true;
  checkpoints_.insert_or_assign(checkpoint, std::move(where));
}

void recovery_log::completed(uint64_t checkpoint) {
  auto found = checkpoints_.find(checkpoint);
  if (found == checkpoints_.end())
    return; // taken by an earlier incarnation, or already superseded
  for (; order_base_ < found->second.order_mark; ++order_base_)
    order_.pop_front();
  for (; events_base_ < found->second.events_mark; ++events_base_)
    events_.pop_front();
  checkpoints_.erase(checkpoints_.begin(), found);
}

const recovery_log::position& recovery_log::restart(uint64_t checkpoint, bool keep_order) {
  auto found = checkpoints_.find(checkpoint);
  if (found == checkpoints_.end())
    throw std::logic_error("the recovery log has no position for checkpoint "
                           + std::to_string(checkpoint));
  checkpoints_.erase(std::next(found), checkpoints_.end());
  completed(checkpoint);
  if (!keep_order) {
    order_.clear();
    events_.clear();
    source_emitted_ = found->second.emitted;
  }
  run_closed_ = true;
  return found->second;
}

const recovery_log::order_entry* recovery_log::order_at(uint64_t index) const {
  if (index < order_base_ || index >= order_end())
    return nullptr;
  return &order_[index - order_base_];
}

const recovery_log::source_event* recovery_log::event_at(uint64_t index) const {
  if (index < events_base_ || index >= events_end())
    return nullptr;
  return &events_[index - events_base_];
}

} // namespace sluice
