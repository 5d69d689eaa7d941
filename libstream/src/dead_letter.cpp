#include "sluice/dead_letter.hpp"

#include <cstdio>
#include <iterator>
#include <string_view>

namespace sluice {

namespace {

/// Writes `text` as a JSON string.
void write_json_string(std::ostream& os, std::string_view text) {
  os << '"';
  for (char c : text) {
    switch (c) {
      case '"':
        os << "\\\"";
        break;
      case '\\':
        os << "\\\\";
        break;
      case '\n':
        os << "\\n";
        break;
      case '\r':
        os << "\\r";
        break;
      case '\t':
        os << "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char escaped[8];
          std::snprintf(escaped, sizeof escaped, "\\u%04x", static_cast<unsigned>(c));
          os << escaped;
        } else {
          os << c;
        }
    }
  }
  os << '"';
}

} // namespace

std::ostream& operator<<(std::ostream& os, const dead_letter& letter) {
  os << "{\"pipeline\":";
  write_json_string(os, letter.pipeline);
  os << ",\"operator\":";
  write_json_string(os, letter.operator_name);
  os << ",\"instance\":" << letter.instance << ",\"key\":";
  write_json_string(os, letter.key);
  os << ",\"error\":";
  write_json_string(os, letter.error);
  os << ",\"payload\":";
  write_json_string(os, letter.payload);
  return os << ",\"time\":" << letter.time << '}';
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
