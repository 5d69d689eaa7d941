#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <variant>

#include "sluice/keyed_stream.hpp"
#include "sluice/windowed_stream.hpp"
#include "sluice/windows/tumbling_window.hpp"

#include "nexmark/views.hpp"

namespace sluice::nexmark::queries {

/// A person who registered in a window and opened an auction in it.
struct new_user {
  int64_t id = 0;
  std::string name;
  timestamp start = 0; // the window's

  friend bool operator==(const new_user&, const new_user&) = default;
  friend auto operator<=>(const new_user&, const new_user&) = default;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, new_user& x) {
  return f(x.id, x.name, x.start);
}

/// What q8 needs of an event: a person registering (with a name) or a seller opening an
/// auction (without one), by person id.
struct person_activity {
  int64_t id = 0;
  std::optional<std::string> registered_as;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, person_activity& x) {
  return f(x.id, x.registered_as);
}

/// Of one person in one window: the name they registered with, if they did, and whether they
/// opened an auction.
struct registered_and_sold {
  using input_type = person_activity;
  using accumulator_type = std::pair<std::optional<std::string>, bool>;
  using result_type = accumulator_type;

  accumulator_type create() const { return {std::nullopt, false}; }

  void add(accumulator_type& acc, const person_activity& a) const {
    if (a.registered_as)
      acc.first = a.registered_as;
    else
      acc.second = true;
  }

  void merge(accumulator_type& acc, accumulator_type&& other) const {
    if (other.first)
      acc.first = std::move(other.first);
    acc.second = acc.second || other.second;
  }

  accumulator_type result(const accumulator_type& acc) const { return acc; }
};

/// Query 8, monitor new users: the people who registered and opened an auction within the same
/// 10-s window. Flink's q8 joins the window's distinct persons with its distinct sellers; here
/// both come to one window per person id, which reports the person if it saw both (the
/// co-group of the two).
inline stream<new_user> q8(stream<event> events) {
  using namespace std::chrono_literals;
  auto activity = events.flat_map([](const event& e, emitter<person_activity>& out) {
    if (const auto* p = std::get_if<person>(&e))
      out(person_activity{p->id, p->name});
    else if (const auto* a = std::get_if<auction>(&e))
      out(person_activity{a->seller, std::nullopt});
  });
  activity.name("q8/activity");
  auto users =
    activity.key_by(&person_activity::id)
      .window(tumbling_window{10s})
      .aggregate<new_user>(registered_and_sold{},
                           [](const int64_t& id, const time_window& w,
                              registered_and_sold::result_type seen, emitter<new_user>& out) {
                             if (seen.first && seen.second)
                               out(new_user{id, std::move(*seen.first), w.start});
                           });
  users.name("q8");
  return users;
}

inline std::string to_csv(const new_user& u) {
  return csv(u.id, u.name, format_date_time(u.start));
}

} // namespace sluice::nexmark::queries
