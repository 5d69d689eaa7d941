#pragma once

/// Times a job's checkpoints from outside the runtime, as its checkpoint record shows them.
///
/// The checkpoint coordinator saves `<state_dir>/<pipeline>/checkpoints` (write, fsync, rename)
/// when it triggers a checkpoint and again when every instance has acknowledged it. A thread
/// waits for those renames with inotify and stamps each change of the record, so a checkpoint's
/// duration is the time from its trigger to its completion as the coordinator sees them, without
/// polling and without touching the runtime.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace bench {

class checkpoint_watch {
public:
  /// A completed checkpoint.
  struct checkpoint {
    uint64_t id = 0;
    int64_t trigger_ns = 0;  ///< when its trigger was saved (0: missed)
    int64_t complete_ns = 0; ///< when its completion was saved
    /// `*source_index` when the trigger was seen: every record the source had emitted by then
    /// precedes the checkpoint's barrier.
    uint64_t source_index = 0;

    [[nodiscard]] bool timed() const { return trigger_ns > 0; }
    [[nodiscard]] double duration_ms() const { return (complete_ns - trigger_ns) / 1e6; }
  };

  /// Watches the record of the pipeline whose state lives in `pipeline_dir` (created if
  /// absent); samples `*source_index` at every trigger. The record's current content (a
  /// restored job's) is the baseline: only checkpoints after it are reported.
  /// @throws std::runtime_error if inotify cannot be set up.
  checkpoint_watch(std::string pipeline_dir, const std::atomic<uint64_t>* source_index);
  ~checkpoint_watch();

  checkpoint_watch(const checkpoint_watch&) = delete;
  checkpoint_watch& operator=(const checkpoint_watch&) = delete;

  /// The checkpoints completed since the watch started, in order.
  [[nodiscard]] std::vector<checkpoint> completed() const;

  /// The last checkpoint completed before the watch started (0: none).
  [[nodiscard]] uint64_t baseline() const { return baseline_; }

  /// Waits until more than `count` checkpoints have completed, at most `timeout`; returns how
  /// many have.
  size_t wait_for_more(size_t count, std::chrono::milliseconds timeout) const;

private:
  void run();
  void on_change();

  std::string record_path_;
  const std::atomic<uint64_t>* source_index_;
  int fd_ = -1;
  uint64_t baseline_ = 0;
  uint64_t last_triggered_ = 0;
  uint64_t last_completed_ = 0;
  mutable std::mutex mutex_;
  mutable std::condition_variable changed_;
  std::map<uint64_t, checkpoint> pending_;
  std::vector<checkpoint> completed_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

} // namespace bench
