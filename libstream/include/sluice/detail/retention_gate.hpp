#pragma once

#include <atomic>
#include <cstdint>

namespace sluice::detail {

/// Pauses a job's sources while any of its instances retains more records for recovery than
/// `runtime_config::retention_limit` (docs/architecture.md, "Bounded retention").
///
/// An instance over the limit closes the gate once and asks for a checkpoint; it opens it again
/// once a completed checkpoint freed enough, or when it exits. Sources look at the gate before
/// each slice they produce.
class retention_gate {
public:
  void close() noexcept { over_.fetch_add(1, std::memory_order_relaxed); }
  void open() noexcept { over_.fetch_sub(1, std::memory_order_relaxed); }
  [[nodiscard]] bool closed() const noexcept { return over_.load(std::memory_order_relaxed) > 0; }

private:
  /// The instances over the limit.
  std::atomic<uint32_t> over_{0};
};

} // namespace sluice::detail
