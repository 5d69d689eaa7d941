#include "sluice/actors/restart_budget.hpp"

#include <algorithm>
#include <cmath>

namespace sluice {

restart_budget::restart_budget(const supervision& s)
  : intensity_(s.intensity), backoff_(s.backoff) {}

bool restart_budget::take() {
  auto now = clock::now();
  while (!restarts_.empty() && now - restarts_.front() > intensity_.within)
    restarts_.pop_front();
  restarts_.push_back(now);
  return restarts_.size() <= intensity_.max_restarts;
}

std::chrono::milliseconds restart_budget::delay() {
  auto earlier = restarts_.empty() ? 0.0 : static_cast<double>(restarts_.size() - 1);
  auto base = static_cast<double>(backoff_.initial.count()) * std::pow(backoff_.factor, earlier);
  base = std::min(base, static_cast<double>(backoff_.max.count()));
  std::uniform_real_distribution<double> spread{-backoff_.jitter, backoff_.jitter};
  auto jittered = base * (1.0 + spread(random_));
  return std::chrono::milliseconds{std::max<int64_t>(0, std::llround(jittered))};
}

std::string restart_budget::limit() const {
  return std::to_string(intensity_.max_restarts) + " restarts within "
         + std::to_string(intensity_.within.count()) + " ms";
}

} // namespace sluice
