#pragma once

#include <functional>
#include <type_traits>
#include <utility>

namespace sluice {

/// Which records of a join come out without a partner, as in SQL: none (inner), those of the
/// first input (left), of the second (right), or of both (full outer).
enum class join_kind { inner, left, right, full };

} // namespace sluice

namespace sluice::detail {

/// How a join function of kind `Kind` takes its sides: by reference a side that always has a
/// record, by pointer one that may lack it (null: no partner). Inner: `fn(const A&, const B&)`,
/// left: `fn(const A&, const B*)`, right: `fn(const A*, const B&)`, full: `fn(const A*, const
/// B*)`.
template <join_kind Kind, class A, class B>
struct join_arguments {
  static constexpr bool lone_first = Kind == join_kind::left || Kind == join_kind::full;
  static constexpr bool lone_second = Kind == join_kind::right || Kind == join_kind::full;
  using first = std::conditional_t<lone_second, const A*, const A&>;
  using second = std::conditional_t<lone_first, const B*, const B&>;
};

/// Whether `F` is a join function of kind `Kind` over A and B returning a result.
template <class F, join_kind Kind, class A, class B>
concept join_function = requires {
  requires std::is_invocable_v < F&, typename join_arguments<Kind, A, B>::first,
  typename join_arguments<Kind, A, B>::second > ;
  requires !std::is_void_v<std::invoke_result_t<F&, typename join_arguments<Kind, A, B>::first,
                                                typename join_arguments<Kind, A, B>::second>>;
};

/// A user's join function of kind `Kind` over records A (first input) and B (second), called
/// for a pair or for a record without a partner.
template <join_kind Kind, class A, class B, join_function<Kind, A, B> F>
class joiner {
  using arguments = join_arguments<Kind, A, B>;

public:
  /// Whether a record of the first (second) input without a partner has a result.
  static constexpr bool emits_lone_first = arguments::lone_first;
  static constexpr bool emits_lone_second = arguments::lone_second;

  using output_type =
    std::decay_t<std::invoke_result_t<F&, typename arguments::first, typename arguments::second>>;

  explicit joiner(F fn) : fn_(std::move(fn)) {}

  /// The result of a pair.
  [[nodiscard]] output_type both(const A& a, const B& b) { return call(&a, &b); }

  /// The result of a record of the first input that met no partner.
  [[nodiscard]] output_type first_only(const A& a) requires emits_lone_first {
    return call(&a, nullptr);
  }

  /// The result of a record of the second input that met no partner.
  [[nodiscard]] output_type second_only(const B& b) requires emits_lone_second {
    return call(nullptr, &b);
  }

private:
  output_type call(const A* a, const B* b) {
    if constexpr (Kind == join_kind::inner)
      return std::invoke(fn_, *a, *b);
    else if constexpr (Kind == join_kind::left)
      return std::invoke(fn_, *a, b);
    else if constexpr (Kind == join_kind::right)
      return std::invoke(fn_, a, *b);
    else
      return std::invoke(fn_, a, b);
  }

  F fn_;
};

} // namespace sluice::detail
