#pragma once

#include <utility>
#include <vector>

#include <caf/meta/type_name.hpp>

#include "sluice/context.hpp"
#include "sluice/joins/joiner.hpp"
#include "sluice/operators/co_process.hpp"
#include "sluice/record.hpp"
#include "sluice/windows/time_window.hpp"

namespace sluice::detail {

/// The records of both inputs in one window of a window join.
template <class A, class B>
struct join_window_records {
  std::vector<A> first;
  std::vector<B> second;

  friend bool operator==(const join_window_records&, const join_window_records&) = default;
};

template <class Inspector, class A, class B>
typename Inspector::result_type inspect(Inspector& f, join_window_records<A, B>& x) {
  return f(caf::meta::type_name("sluice.join_window_records"), x.first, x.second);
}

/// The contents of a window join's windows (see detail::element_contents for the contract): a
/// window keeps the records of both inputs and, as it fires, emits the join of every record of
/// the first with every one of the second, and per the join's kind each record of a side
/// without any partner alone (Flink's window join, a coGroup; SQL's outer joins).
template <class K, class A, class B, class Joiner>
class window_join_contents {
public:
  using input_type = two_inputs<A, B>;
  using state_type = join_window_records<A, B>;
  using output_type = typename Joiner::output_type;

  explicit window_join_contents(Joiner joiner) : joiner_(std::move(joiner)) {}

  void add(state_type& s, const record<input_type>& r) const {
    if (r.value.index() == 0)
      s.first.push_back(std::get<0>(r.value));
    else
      s.second.push_back(std::get<1>(r.value));
  }

  void merge(state_type& into, state_type&& from) const {
    into.first.insert(into.first.end(), std::make_move_iterator(from.first.begin()),
                      std::make_move_iterator(from.first.end()));
    into.second.insert(into.second.end(), std::make_move_iterator(from.second.begin()),
                       std::make_move_iterator(from.second.end()));
  }

  void fire(const K&, const time_window&, state_type& s, context<output_type>& ctx) {
    if constexpr (Joiner::emits_lone_first)
      if (s.second.empty())
        for (const auto& a : s.first)
          ctx.emit(joiner_.first_only(a));
    if constexpr (Joiner::emits_lone_second)
      if (s.first.empty())
        for (const auto& b : s.second)
          ctx.emit(joiner_.second_only(b));
    for (const auto& a : s.first)
      for (const auto& b : s.second)
        ctx.emit(joiner_.both(a, b));
  }

private:
  Joiner joiner_;
};

} // namespace sluice::detail
