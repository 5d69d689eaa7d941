#include "checkpoint_watch.hpp"

#include <poll.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <stdexcept>

#include "sluice/checkpoint_record.hpp"

#include "bench.hpp"

namespace bench {

namespace {

constexpr const char* record_name = "checkpoints";

} // namespace

checkpoint_watch::checkpoint_watch(std::string pipeline_dir,
                                   const std::atomic<uint64_t>* source_index)
  : record_path_(pipeline_dir + "/" + record_name), source_index_(source_index) {
  std::error_code ec;
  std::filesystem::create_directories(pipeline_dir, ec);
  fd_ = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
  if (fd_ < 0)
    throw std::runtime_error(std::string{"inotify_init1: "} + std::strerror(errno));
  // The coordinator replaces the record by renaming a new file over it.
  if (inotify_add_watch(fd_, pipeline_dir.c_str(), IN_MOVED_TO) < 0) {
    auto err = errno;
    close(fd_);
    throw std::runtime_error("inotify_add_watch " + pipeline_dir + ": " + std::strerror(err));
  }
  auto record = sluice::checkpoint_record::load(record_path_);
  baseline_ = record.completed;
  last_triggered_ = record.triggered;
  last_completed_ = record.completed;
  thread_ = std::thread{[this] { run(); }};
}

checkpoint_watch::~checkpoint_watch() {
  stop_ = true;
  thread_.join();
  close(fd_);
}

void checkpoint_watch::run() {
  alignas(inotify_event) char buffer[4096];
  while (!stop_) {
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, 20) <= 0)
      continue;
    bool ours = false;
    for (;;) {
      auto n = read(fd_, buffer, sizeof buffer);
      if (n <= 0)
        break;
      for (ssize_t off = 0; off < n;) {
        const auto* e = reinterpret_cast<const inotify_event*>(buffer + off);
        if (e->len > 0 && std::strcmp(e->name, record_name) == 0)
          ours = true;
        off += static_cast<ssize_t>(sizeof(inotify_event) + e->len);
      }
    }
    if (ours)
      on_change();
  }
}

void checkpoint_watch::on_change() {
  auto now = now_ns();
  auto index = source_index_ ? source_index_->load(std::memory_order_relaxed) : 0;
  sluice::checkpoint_record record;
  try {
    record = sluice::checkpoint_record::load(record_path_);
  } catch (const std::exception&) {
    return; // replaced again while read: the next event reads it
  }
  std::lock_guard guard{mutex_};
  // A trigger seen while the checkpoint before it was still in flight is timed; one that came
  // and completed between two reads of the record is not.
  if (record.triggered > last_triggered_) {
    for (auto id = last_triggered_ + 1; id <= record.triggered; ++id) {
      checkpoint c;
      c.id = id;
      if (id == record.triggered && record.completed < id) {
        c.trigger_ns = now;
        c.source_index = index;
      }
      pending_[id] = c;
    }
    last_triggered_ = record.triggered;
  }
  if (record.completed > last_completed_) {
    for (auto id = last_completed_ + 1; id <= record.completed; ++id) {
      auto c = pending_[id];
      c.id = id;
      c.complete_ns = now;
      pending_.erase(id);
      completed_.push_back(c);
    }
    last_completed_ = record.completed;
    changed_.notify_all();
  }
}

std::vector<checkpoint_watch::checkpoint> checkpoint_watch::completed() const {
  std::lock_guard guard{mutex_};
  return completed_;
}

size_t checkpoint_watch::wait_for_more(size_t count, std::chrono::milliseconds timeout) const {
  std::unique_lock guard{mutex_};
  changed_.wait_for(guard, timeout, [&] { return completed_.size() > count; });
  return completed_.size();
}

} // namespace bench
