#pragma once

#include <cstddef>

namespace sluice::detail {

/// The size of a huge page (x86-64's 2 MiB): memory meant for huge pages starts at a multiple of
/// it.
inline constexpr size_t huge_page_size = size_t{2} << 20;

/// Asks the kernel to back `[address, address + bytes)` with transparent huge pages
/// (`madvise(MADV_HUGEPAGE)`); the whole huge pages within the range get them where the kernel
/// has them to give. Nothing happens where THP is off or unknown.
void advise_huge_pages(void* address, size_t bytes) noexcept;

} // namespace sluice::detail
