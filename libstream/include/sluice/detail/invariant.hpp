#pragma once

#include <cstdio>
#include <cstdlib>

namespace sluice::detail {

/// Reports a broken protocol invariant and aborts: where the assumption breaks, not hops later.
[[noreturn]] inline void invariant_failed(const char* condition, const char* what, const char* file,
                                          int line) noexcept {
  std::fprintf(stderr, "%s:%d: sluice invariant broken: %s (%s)\n", file, line, what, condition);
  std::abort();
}

} // namespace sluice::detail

/// Asserts an invariant of Sluice's protocol in debug builds (as `CAF_ASSERT`); compiled out
/// with `NDEBUG`.
#ifndef NDEBUG
#define SLUICE_INVARIANT(condition, what) \
  ((condition) ? void(0) : ::sluice::detail::invariant_failed(#condition, what, __FILE__, __LINE__))
#else
#define SLUICE_INVARIANT(condition, what) void(0)
#endif
