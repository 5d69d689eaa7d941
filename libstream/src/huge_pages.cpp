#include "sluice/detail/huge_pages.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>

namespace sluice::detail {

void advise_huge_pages(void* address, size_t bytes) noexcept {
#ifdef MADV_HUGEPAGE
  // madvise takes whole pages: the range from the first page boundary at or after `address`.
  static const auto page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
  auto begin = (reinterpret_cast<uintptr_t>(address) + page - 1) & ~(page - 1);
  auto end = reinterpret_cast<uintptr_t>(address) + bytes;
  if (end > begin)
    // A refusal (THP compiled out, an old kernel) leaves ordinary pages, which serve as well.
    (void)madvise(reinterpret_cast<void*>(begin), end - begin, MADV_HUGEPAGE);
#else
  (void)address;
  (void)bytes;
#endif
}

} // namespace sluice::detail
