// The scheduler policy alone, on a real actor system of one or two workers, and its timer heap:
//   main thread --> actor --> actors ... (each run by whichever worker takes it)
//   actor --send_later--> itself

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/scoped_actor.hpp>

#include "sluice/detail/parking_work_stealing.hpp"

using sluice::detail::parking_work_stealing;

namespace {

struct two_workers : caf::actor_system_config {
  two_workers() {
    set("scheduler.max-threads", 2);
    parking_work_stealing::install(*this);
  }
};

struct one_worker : caf::actor_system_config {
  one_worker() {
    set("scheduler.max-threads", 1);
    parking_work_stealing::install(*this);
  }
};

size_t parked_workers(caf::actor_system& sys) {
  return dynamic_cast<parking_work_stealing::coordinator&>(sys.scheduler()).data().parked.load();
}

/// Waits up to `limit` for `done`; true if it came.
template <class Predicate>
bool eventually(Predicate done, std::chrono::seconds limit = std::chrono::seconds{30}) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline)
      return false;
    std::this_thread::sleep_for(std::chrono::milliseconds{1});
  }
  return true;
}

int64_t now_ns() {
  return std::chrono::steady_clock::now().time_since_epoch().count();
}

/// Passes a number down a ring of actors until it reaches zero, then tells `done`.
caf::behavior ring_member(caf::event_based_actor* self, caf::actor done) {
  return {
    [=](int left, caf::actor next) {
      if (left == 0)
        self->send(done, left);
      else
        self->send(next, left - 1, next);
    },
  };
}

void run_ring(caf::actor_system& sys, int hops) {
  caf::scoped_actor self{sys};
  auto member = sys.spawn(ring_member, caf::actor{self});
  self->send(member, hops, member);
  self->receive([](int) {});
  caf::anon_send_exit(member, caf::exit_reason::user_shutdown);
}

} // namespace

TEST_CASE("idle workers of the parking scheduler sleep, and wake when work arrives") {
  two_workers cfg;
  caf::actor_system sys{cfg};
  REQUIRE(dynamic_cast<parking_work_stealing::coordinator*>(&sys.scheduler()) != nullptr);
  for (int round = 0; round < 3; ++round) {
    run_ring(sys, 10'000);
    INFO("round " << round);
    CHECK(eventually([&] { return parked_workers(sys) == 2; }));
  }
}

TEST_CASE("a parked worker is woken to take work queued behind a busy one") {
  // One actor hands two jobs to its own worker; each job waits until both run at once, which
  // only happens if the other (parked) worker is woken and steals one.
  two_workers cfg;
  caf::actor_system sys{cfg};
  REQUIRE(eventually([&] { return parked_workers(sys) == 2; }));
  std::atomic<int> running{0};
  std::atomic<int> saw_both{0};
  // (CAF 0.17 spawns a function without arguments through a null tuple, which UBSan reports;
  // each of these actors is given what it uses instead.)
  auto wait_for_partner = [](caf::event_based_actor*, std::atomic<int>* running,
                             std::atomic<int>* saw_both) -> caf::behavior {
    return {
      [=](int) {
        ++*running;
        if (eventually([&] { return running->load() == 2; }, std::chrono::seconds{10}))
          ++*saw_both;
      },
    };
  };
  auto first = sys.spawn(wait_for_partner, &running, &saw_both);
  auto second = sys.spawn(wait_for_partner, &running, &saw_both);
  auto fan_out = sys.spawn(
    [](caf::event_based_actor* self, caf::actor to_first, caf::actor to_second) -> caf::behavior {
      return {
        [=](int x) {
          self->send(to_first, x);
          self->send(to_second, x);
        },
      };
    },
    first, second);
  caf::anon_send(fan_out, 1);
  REQUIRE(eventually([&] { return running.load() == 2; }));
  CHECK(eventually([&] { return saw_both.load() == 2; }));
  for (const auto& a : {first, second, fan_out})
    caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
}

TEST_CASE("the timer heap gives back what is due, earliest first, in the order added") {
  using sluice::detail::timer_heap;
  timer_heap timers;
  auto t0 = timer_heap::clock::now();
  auto at = [&](int ms) { return t0 + std::chrono::milliseconds{ms}; };
  CHECK_FALSE(timers.earliest());
  timers.add(at(30), nullptr, caf::make_message(3));
  timers.add(at(10), nullptr, caf::make_message(1));
  timers.add(at(30), nullptr, caf::make_message(4));
  timers.add(at(20), nullptr, caf::make_message(2));
  REQUIRE(timers.earliest() == at(10));
  CHECK(timers.take_due(at(5)).empty());
  std::vector<int> order;
  for (auto& e : timers.take_due(at(30)))
    order.push_back(e.content.get_as<int>(0));
  CHECK(order == std::vector<int>{1, 2, 3, 4});
  CHECK(timers.empty());
}

TEST_CASE("a message sent for later arrives once, no earlier than asked, while workers park") {
  two_workers cfg;
  caf::actor_system sys{cfg};
  using clock = std::chrono::steady_clock;
  struct arrival {
    int number;
    clock::duration early_by;
  };
  std::mutex mutex;
  std::vector<arrival> arrivals;
  auto delay = std::chrono::milliseconds{20};
  auto later = sys.spawn(
    [&](caf::event_based_actor* self, std::chrono::milliseconds step) -> caf::behavior {
      return {
        [&, self, step](int n, int64_t asked_ns) {
          if (n < 0) { // the start: ask for messages 0..4, each 20 ms on
            for (int i = 0; i < 5; ++i)
              sluice::detail::send_later(self, (i + 1) * step, caf::make_message(i, now_ns()));
            return;
          }
          std::lock_guard guard{mutex};
          auto asked = clock::time_point{std::chrono::nanoseconds{asked_ns}};
          arrivals.push_back({n, asked + (n + 1) * step - clock::now()});
        },
      };
    },
    delay);
  caf::anon_send(later, -1, now_ns());
  REQUIRE(eventually([&] {
    std::lock_guard guard{mutex};
    return arrivals.size() == 5;
  }));
  // Nothing more arrives: each was delivered once.
  CHECK(eventually([&] { return parked_workers(sys) == 2; }));
  std::lock_guard guard{mutex};
  CHECK(arrivals.size() == 5);
  for (size_t i = 0; i < arrivals.size(); ++i) {
    INFO("message " << i);
    CHECK(arrivals[i].number == static_cast<int>(i));
    CHECK(arrivals[i].early_by <= clock::duration::zero());
  }
  caf::anon_send_exit(later, caf::exit_reason::user_shutdown);
}

TEST_CASE("a job queued behind two actors that hand work to each other still gets its turn") {
  // On one worker (nothing is stolen), a starter hands a job to a bystander, then starts two
  // actors volleying a count between them: each volley runs next, from the worker's slot. The
  // bystander must run before the volley ends, not after it, as it would if every job sent from
  // a worker ran before those queued.
  one_worker cfg;
  caf::actor_system sys{cfg};
  static constexpr int volleys = 1'000'000;
  std::atomic<int> left{volleys};
  std::atomic<int> left_when_bystander_ran{-1};
  auto bystander = sys.spawn(
    [](caf::event_based_actor*, std::atomic<int>* left, std::atomic<int>* seen) -> caf::behavior {
      return {
        [=](int) { *seen = left->load(); },
      };
    },
    &left, &left_when_bystander_ran);
  auto volley = [](caf::event_based_actor* self, std::atomic<int>* left) -> caf::behavior {
    return {
      [=](int n, caf::actor back) {
        *left = n;
        if (n > 0)
          self->send(back, n - 1, caf::actor{self});
      },
    };
  };
  auto a = sys.spawn(volley, &left);
  auto b = sys.spawn(volley, &left);
  auto starter = sys.spawn(
    [](caf::event_based_actor* self, caf::actor bystander, caf::actor a,
       caf::actor b) -> caf::behavior {
      return {
        [=](int) {
          self->send(bystander, 0);
          self->send(a, volleys, b);
        },
      };
    },
    bystander, a, b);
  caf::anon_send(starter, 1);
  REQUIRE(eventually([&] { return left.load() == 0 && left_when_bystander_ran.load() >= 0; }));
  CHECK(left_when_bystander_ran.load() > 0);
  for (const auto& actor : {bystander, a, b, starter})
    caf::anon_send_exit(actor, caf::exit_reason::user_shutdown);
}
