#include "sluice/detail/background_disposal.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

namespace sluice::detail {

namespace {

/// One thread that frees what it is given, in order. It is never joined: what is still queued
/// when the process exits is left to the operating system.
class disposal_thread {
public:
  void add(std::shared_ptr<void> object) {
    std::lock_guard<std::mutex> guard{mutex_};
    queue_.push_back(std::move(object));
    // A forked child does not inherit the thread: it starts its own.
    if (owner_ != ::getpid()) {
      owner_ = ::getpid();
      std::thread{[this] { run(); }}.detach();
    }
    wake_.notify_one();
  }

private:
  void run() {
    // The lowest priority: freeing memory must not take a core from the operators (a restarted
    // instance replaying its input, above all). Failing that, it runs at normal priority.
    static_cast<void>(::setpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()), 19));
    std::unique_lock<std::mutex> lock{mutex_};
    for (;;) {
      wake_.wait(lock, [this] { return !queue_.empty(); });
      auto batch = std::move(queue_);
      queue_.clear();
      lock.unlock();
      batch.clear();
      lock.lock();
    }
  }

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::shared_ptr<void>> queue_;
  pid_t owner_ = 0;
};

} // namespace

void dispose_in_background(std::shared_ptr<void> object) {
  // Leaked on purpose: the detached thread may outlive static destruction.
  static auto* thread = new disposal_thread;
  thread->add(std::move(object));
}

} // namespace sluice::detail
