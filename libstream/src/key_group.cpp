#include "sluice/key_group.hpp"

#include <xxhash.h>

namespace sluice {

uint64_t hash_bytes(const void* data, size_t size) noexcept {
  return XXH3_64bits(data, size);
}

} // namespace sluice
