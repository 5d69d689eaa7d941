#include "sluice/dead_letter.hpp"

#include <iterator>

namespace sluice {

void tag_invoke(boost::json::value_from_tag, boost::json::value& json, const dead_letter& letter) {
  json = {{"pipeline", letter.pipeline}, {"operator", letter.operator_name},
          {"instance", letter.instance}, {"key", letter.key},
          {"error", letter.error},       {"payload", letter.payload},
          {"time", letter.time}};
}

dead_letter tag_invoke(boost::json::value_to_tag<dead_letter>, const boost::json::value& json) {
  const auto& o = json.as_object();
  return {boost::json::value_to<std::string>(o.at("pipeline")),
          boost::json::value_to<std::string>(o.at("operator")),
          boost::json::value_to<uint32_t>(o.at("instance")),
          boost::json::value_to<std::string>(o.at("key")),
          boost::json::value_to<std::string>(o.at("error")),
          boost::json::value_to<std::string>(o.at("payload")),
          boost::json::value_to<timestamp>(o.at("time"))};
}

std::ostream& operator<<(std::ostream& os, const dead_letter& letter) {
  return os << boost::json::serialize(boost::json::value_from(letter));
}

void dead_letter_store::reset(const std::vector<uint32_t>& producers, bool transactional) {
  std::lock_guard<std::mutex> guard{mutex_};
  transactional_ = transactional;
  producers_.clear();
  for (auto instance : producers)
    producers_[instance];
  unfinished_ = producers_.size();
  committed_.clear();
}

void dead_letter_store::put(uint32_t instance, dead_letter letter) {
  std::lock_guard<std::mutex> guard{mutex_};
  auto& p = producers_.at(instance);
  if (p.finished)
    return;
  if (transactional_)
    p.pending.push_back(std::move(letter));
  else
    committed_.push_back(std::move(letter));
}

void dead_letter_store::stage(uint32_t instance, uint64_t checkpoint) {
  std::lock_guard<std::mutex> guard{mutex_};
  auto& p = producers_.at(instance);
  if (p.finished || p.pending.empty())
    return;
  auto& staged = p.staged[checkpoint];
  std::move(p.pending.begin(), p.pending.end(), std::back_inserter(staged));
  p.pending.clear();
}

void dead_letter_store::commit(uint32_t instance, uint64_t checkpoint) {
  std::lock_guard<std::mutex> guard{mutex_};
  auto& staged = producers_.at(instance).staged;
  auto last = staged.upper_bound(checkpoint);
  for (auto it = staged.begin(); it != last; ++it)
    append(it->second);
  staged.erase(staged.begin(), last);
}

void dead_letter_store::recover(uint32_t instance, uint64_t checkpoint) {
  commit(instance, checkpoint);
  std::lock_guard<std::mutex> guard{mutex_};
  auto& p = producers_.at(instance);
  p.staged.clear();
  p.pending.clear();
}

void dead_letter_store::finish(uint32_t instance) {
  std::lock_guard<std::mutex> guard{mutex_};
  auto& p = producers_.at(instance);
  if (p.finished)
    return;
  for (auto& [checkpoint, letters] : p.staged)
    append(letters);
  p.staged.clear();
  append(p.pending);
  p.finished = true;
  --unfinished_;
}

dead_letter_store::read_result dead_letter_store::read(uint64_t first, uint64_t stride,
                                                       size_t max) const {
  std::lock_guard<std::mutex> guard{mutex_};
  read_result result;
  auto index = first;
  for (; index < committed_.size() && result.letters.size() < max; index += stride)
    result.letters.push_back(committed_[index]);
  result.exhausted = unfinished_ == 0 && index >= committed_.size();
  return result;
}

void dead_letter_store::append(std::vector<dead_letter>& letters) {
  std::move(letters.begin(), letters.end(), std::back_inserter(committed_));
  letters.clear();
}

} // namespace sluice
