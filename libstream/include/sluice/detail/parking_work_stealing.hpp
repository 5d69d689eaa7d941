#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <limits>
#include <mutex>
#include <random>
#include <utility>

#include <caf/actor_system_config.hpp>
#include <caf/mailbox_element.hpp>
#include <caf/policy/unprofiled.hpp>
#include <caf/resumable.hpp>
#include <caf/scheduled_actor.hpp>
#include <caf/scheduler/abstract_coordinator.hpp>
#include <caf/scheduler/coordinator.hpp>

#include "sluice/detail/timer_heap.hpp"

namespace sluice::detail {

/// A work-stealing scheduler policy for CAF 0.17's `scheduler::coordinator` whose idle workers
/// sleep instead of polling, and which keeps the runtime's timers itself.
///
/// CAF's own `work_stealing` polls for work: an idle worker spins, then wakes every 50 us, and
/// only after that sleeps. A job that runs well below its peak rate then keeps its cores busy
/// polling between two batches (1.9 cores for 100,000 records/s, where the records themselves
/// need under 1% of one). Here an idle worker looks for work briefly (`idle_spin`), then parks on
/// its condition variable until someone hands it work:
/// - a job enqueued from outside the workers goes to a worker's queue and wakes that worker if
///   it is parked;
/// - a job a worker enqueues for itself (an actor sending to an idle actor) runs next on the same
///   worker, where its input is still in cache; only when the worker's queue already holds
///   other work does it wake a parked worker to steal some of it.
/// No job can be stranded: a parked worker's own queue is only ever filled from outside, and that
/// wakes it; every other queue belongs to a worker that is running.
///
/// **Fairness.** "Runs next" is one slot per worker (as Tokio's LIFO slot), not the front of its
/// queue: a job enqueued while the slot is taken sends the slot's job to the back of the queue,
/// and once the oldest queued job has waited `max_queue_wait`, it runs before the slot's job.
/// Were every such job pushed to the front, the queue would be a stack: actors handing work to
/// each other would run on and on while a job below them waited, and of two sources of one
/// job, one fell 500,000 records behind the other — with the event-time timers of all between
/// them pending (docs/benchmarks.md, "Fair turns"). A bound on jobs run from the slot in a row
/// is not enough: at three, as Tokio's, the sources drifted as far apart.
///
/// **Timers.** Messages sent for later (`send_later`: a source's next slice at a limited rate, a
/// flush of a partly filled batch) are kept here rather than by CAF's clock thread, which is
/// woken for every message scheduled and again when it is due: three thread switches per timer
/// where one will do. One parked worker at a time, the timer keeper, sleeps only until the
/// earliest timer is due, delivers it to its own queue and runs it; running workers deliver due
/// timers between jobs.
///
/// A worker takes its own queued jobs from the front and steals the oldest of another's, or, if
/// that worker has none queued, the job in its slot.
class parking_work_stealing : public caf::policy::unprofiled {
public:
  using clock = timer_heap::clock;

  /// How long an idle worker looks for work before it parks, at most and at least. Looking pays
  /// when stages hand batches to each other at full speed, where the gap between two is a few
  /// microseconds and parking would cost a wake-up per batch; it is waste when batches come a
  /// millisecond apart. So each worker adapts: a look that found work doubles its next one, a
  /// look that ended parked halves it (docs/benchmarks.md, "Light load").
  static constexpr std::chrono::nanoseconds max_spin{50'000};
  static constexpr std::chrono::nanoseconds min_spin{500};
  /// How long the oldest job queued on a worker waits at most before it runs ahead of the job
  /// in the worker's "runs next" slot.
  static constexpr std::chrono::microseconds max_queue_wait{200};

  using coordinator = caf::scheduler::coordinator<parking_work_stealing>;

  /// Makes the actor systems of `cfg` schedule with this policy.
  static void install(caf::actor_system_config& cfg) {
    cfg.module_factories.push_back(
      [](caf::actor_system& sys) -> caf::actor_system::module* { return new coordinator(sys); });
  }

  struct worker_data;

  struct coordinator_data {
    explicit coordinator_data(caf::scheduler::abstract_coordinator*) {}

    /// Round robin over the workers for jobs enqueued from outside.
    std::atomic<size_t> next_worker{0};
    /// Workers parked now: a worker that makes a backlog reads it to know whether to wake one.
    std::atomic<size_t> parked{0};

    std::mutex timer_mutex;
    timer_heap timers;             // guarded by timer_mutex
    worker_data* keeper = nullptr; // guarded by timer_mutex
    /// When the earliest timer is due (ns of `clock`), for a look without the lock.
    std::atomic<int64_t> next_due{no_timer};
  };

  /// A job in a worker's queue, and when it was queued.
  struct queued_job {
    caf::resumable* job;
    clock::time_point since;
  };

  struct worker_data {
    explicit worker_data(caf::scheduler::abstract_coordinator*) {}
    /// Each worker gets fresh queue and parking state (CAF copies one prototype per worker).
    worker_data(const worker_data&) {}

    std::mutex mutex;
    std::condition_variable wakeup;
    /// The jobs queued, oldest first.
    std::deque<queued_job> jobs; // guarded by mutex
    /// The job to run next: the last one this worker enqueued for itself.
    caf::resumable* next = nullptr; // guarded by mutex
    bool parked = false;            // guarded by mutex
    /// A timer was added that this worker, the keeper, must wake earlier for.
    bool timers_changed = false; // guarded by mutex
    std::chrono::nanoseconds spin = max_spin;
    std::minstd_rand random{std::random_device{}()};
  };

  /// Delivers `content` to `receiver` at `at`. Thread-safe.
  static void add_timer(coordinator* self, clock::time_point at, caf::strong_actor_ptr receiver,
                        caf::message content) {
    auto& data = d(self);
    worker_data* wake = nullptr;
    {
      std::lock_guard guard{data.timer_mutex};
      auto before = data.timers.earliest();
      data.timers.add(at, std::move(receiver), std::move(content));
      data.next_due = ns(*data.timers.earliest());
      if (!before || at < *before)
        wake = data.keeper ? data.keeper : any_parked_if_all_are(self);
    }
    if (wake) {
      {
        std::lock_guard guard{wake->mutex};
        wake->timers_changed = true;
      }
      wake->wakeup.notify_one();
    }
  }

  template <class Coordinator>
  void central_enqueue(Coordinator* self, caf::resumable* job) {
    auto n = self->num_workers();
    external_enqueue(self->worker_by_id(d(self).next_worker++ % n), job);
  }

  template <class Worker>
  void external_enqueue(Worker* self, caf::resumable* job) {
    auto& data = d(self);
    bool wake = false;
    {
      std::lock_guard guard{data.mutex};
      data.jobs.push_back({job, clock::now()});
      wake = unpark(self->parent(), data);
    }
    if (wake)
      data.wakeup.notify_one();
  }

  template <class Worker>
  void internal_enqueue(Worker* self, caf::resumable* job) {
    push_own(self, job, true);
  }

  template <class Worker>
  void resume_job_later(Worker* self, caf::resumable* job) {
    push_own(self, job, false);
  }

  template <class Worker>
  caf::resumable* dequeue(Worker* self) {
    auto& data = d(self);
    // Only work found by looking again counts for looking longer; work that was there at the
    // first look (a stage's next stage) would have been found without spinning.
    bool spinning = false;
    bool parked = false;
    auto found = [&](caf::resumable* job) {
      if (spinning && !parked)
        data.spin = std::min(data.spin * 2, max_spin);
      return job;
    };
    auto spin_until = clock::now() + data.spin;
    for (;;) {
      deliver_due_timers(self);
      if (auto job = take_own(data))
        return found(job);
      if (auto job = steal(self))
        return found(job);
      spinning = true;
      if (clock::now() < spin_until)
        continue;
      data.spin = std::max(data.spin / 2, min_spin);
      park(self);
      parked = true;
      spin_until = clock::now() + data.spin;
    }
  }

  template <class Worker, class UnaryFunction>
  void foreach_resumable(Worker* self, UnaryFunction f) {
    while (auto job = take_own(d(self)))
      f(job);
  }

  /// At shutdown, once the workers stopped: drops the timers that never came due.
  template <class Coordinator, class UnaryFunction>
  void foreach_central_resumable(Coordinator* self, UnaryFunction) {
    std::lock_guard guard{d(self).timer_mutex};
    d(self).timers.clear();
  }

private:
  static constexpr int64_t no_timer = std::numeric_limits<int64_t>::max();

  static int64_t ns(clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
  }

  /// Puts `job` in this worker's slot to run next (the slot's job to the back of the queue), or
  /// at the back of the queue.
  template <class Worker>
  void push_own(Worker* self, caf::resumable* job, bool next) {
    auto& data = d(self);
    bool backlog = false;
    {
      std::lock_guard guard{data.mutex};
      if (next)
        job = std::exchange(data.next, job);
      if (job)
        data.jobs.push_back({job, clock::now()});
      backlog = queued(data) > 1;
    }
    if (backlog && d(self->parent()).parked.load() > 0)
      wake_one(self->parent());
  }

  /// The job in the slot, unless the oldest queued job has waited `max_queue_wait` (then the
  /// slot's job joins the queue's back); else the oldest queued job.
  static caf::resumable* take_own(worker_data& data) {
    std::lock_guard guard{data.mutex};
    if (data.next && (data.jobs.empty() || clock::now() - data.jobs.front().since < max_queue_wait))
      return std::exchange(data.next, nullptr);
    if (data.next)
      data.jobs.push_back({std::exchange(data.next, nullptr), clock::now()});
    if (data.jobs.empty())
      return nullptr;
    auto job = data.jobs.front().job;
    data.jobs.pop_front();
    return job;
  }

  /// The jobs waiting on a worker. Called with `data.mutex` held.
  static size_t queued(const worker_data& data) { return data.jobs.size() + (data.next ? 1 : 0); }

  /// Takes the oldest job of another worker, trying each once from a random start.
  template <class Worker>
  caf::resumable* steal(Worker* self) {
    auto parent = self->parent();
    auto n = parent->num_workers();
    if (n < 2)
      return nullptr;
    auto start = d(self).random() % n;
    for (size_t i = 0; i < n; ++i) {
      auto id = (start + i) % n;
      if (id == self->id())
        continue;
      auto& victim = d(parent->worker_by_id(id));
      std::lock_guard guard{victim.mutex};
      if (!victim.jobs.empty()) {
        auto job = victim.jobs.front().job;
        victim.jobs.pop_front();
        return job;
      }
      if (victim.next)
        return std::exchange(victim.next, nullptr);
    }
    return nullptr;
  }

  /// Delivers the timers due now into this worker's own queue (through the receivers' mailboxes).
  template <class Worker>
  void deliver_due_timers(Worker* self) {
    auto& data = d(self->parent());
    if (data.next_due.load(std::memory_order_acquire) == no_timer)
      return;
    auto now = clock::now();
    if (data.next_due.load(std::memory_order_acquire) > ns(now))
      return;
    std::vector<timer_heap::entry> due;
    {
      std::lock_guard guard{data.timer_mutex};
      due = data.timers.take_due(now);
      auto next = data.timers.earliest();
      data.next_due.store(next ? ns(*next) : no_timer, std::memory_order_release);
    }
    for (auto& timer : due)
      timer.receiver->get()->enqueue(
        caf::make_mailbox_element(nullptr, caf::make_message_id(), {}, std::move(timer.content)),
        self);
  }

  /// Sleeps until another thread hands this worker work, or, as the timer keeper, until the
  /// earliest timer is due. Announces itself as parked before a last look at the other queues,
  /// so that a worker making a backlog meanwhile sees it parked.
  template <class Worker>
  void park(Worker* self) {
    auto parent = self->parent();
    auto& data = d(self);
    {
      std::lock_guard guard{data.mutex};
      if (queued(data) > 0)
        return;
      data.parked = true;
      d(parent).parked.fetch_add(1);
    }
    if (others_have_work(self)) {
      std::lock_guard guard{data.mutex};
      unpark(parent, data);
      return;
    }
    std::optional<clock::time_point> deadline;
    {
      std::lock_guard guard{d(parent).timer_mutex};
      if (!d(parent).keeper && !d(parent).timers.empty()) {
        d(parent).keeper = &data;
        deadline = d(parent).timers.earliest();
      }
    }
    {
      std::unique_lock guard{data.mutex};
      auto woken = [&] { return !data.parked || queued(data) > 0 || data.timers_changed; };
      if (deadline)
        data.wakeup.wait_until(guard, *deadline, woken);
      else
        data.wakeup.wait(guard, woken);
      data.timers_changed = false;
      unpark(parent, data);
    }
    if (deadline) {
      std::lock_guard guard{d(parent).timer_mutex};
      if (d(parent).keeper == &data)
        d(parent).keeper = nullptr;
    }
  }

  template <class Worker>
  bool others_have_work(Worker* self) {
    auto parent = self->parent();
    for (size_t id = 0; id < parent->num_workers(); ++id) {
      if (id == self->id())
        continue;
      auto& other = d(parent->worker_by_id(id));
      std::lock_guard guard{other.mutex};
      if (queued(other) > 1)
        return true;
    }
    return false;
  }

  /// Marks a worker as no longer parked; true if it was (the caller then notifies it). Called
  /// with `data.mutex` held.
  template <class Coordinator>
  static bool unpark(Coordinator* parent, worker_data& data) {
    if (!data.parked)
      return false;
    data.parked = false;
    d(parent).parked.fetch_sub(1);
    return true;
  }

  /// Wakes one parked worker, if one still is.
  template <class Coordinator>
  static void wake_one(Coordinator* parent) {
    for (size_t id = 0; id < parent->num_workers(); ++id) {
      auto& data = d(parent->worker_by_id(id));
      bool woken = false;
      {
        std::lock_guard guard{data.mutex};
        woken = unpark(parent, data);
      }
      if (woken) {
        data.wakeup.notify_one();
        return;
      }
    }
  }

  /// A worker to become the timer keeper when every worker is parked, none of them keeping the
  /// timers (a timer added from outside the workers); null if some worker runs, since it will
  /// look at the timers before it parks.
  static worker_data* any_parked_if_all_are(coordinator* self) {
    if (d(self).parked.load() < self->num_workers())
      return nullptr;
    return &d(self->worker_by_id(0));
  }
};

/// Sends `content` to `self` after `delay`: through the parking scheduler's timers if the
/// actor's system runs it, else through CAF's clock.
inline void send_later(caf::scheduled_actor* self, std::chrono::microseconds delay,
                       caf::message content) {
  caf::strong_actor_ptr receiver{self->ctrl()};
  auto& scheduler = self->home_system().scheduler();
  if (auto* parking = dynamic_cast<parking_work_stealing::coordinator*>(&scheduler)) {
    parking_work_stealing::add_timer(parking, parking_work_stealing::clock::now() + delay,
                                     std::move(receiver), std::move(content));
    return;
  }
  auto& clock = self->clock();
  clock.schedule_message(
    clock.now() + delay, std::move(receiver),
    caf::make_mailbox_element(nullptr, caf::make_message_id(), {}, std::move(content)));
}

} // namespace sluice::detail
