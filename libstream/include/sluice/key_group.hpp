#pragma once

#include <bit>
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#define XXH_INLINE_ALL
#include <xxhash.h>

namespace sluice {

/// Hashes bytes with XXH3; stable across processes and machines, so key groups are too.
/// Inlined (one call per record would otherwise be two calls into libxxhash).
[[nodiscard]] inline uint64_t hash_bytes(const void* data, size_t size) noexcept {
  return XXH3_64bits(data, size);
}

/// Stable hash of a key. Specialize `key_hash<K>` (or give K a `sluice_hash(const K&)`
/// found by ADL) for your own key types: `std::hash` is not stable across machines.
template <class K, class = void>
struct key_hash;

template <class K>
struct key_hash<K, std::enable_if_t<std::is_integral_v<K> || std::is_enum_v<K>>> {
  uint64_t operator()(K key) const noexcept {
    auto x = static_cast<uint64_t>(key);
    // splitmix64 finalizer: spreads consecutive integers over all key groups.
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
  }
};

template <>
struct key_hash<std::string> {
  uint64_t operator()(const std::string& key) const noexcept {
    return hash_bytes(key.data(), key.size());
  }
};

template <>
struct key_hash<std::string_view> {
  uint64_t operator()(std::string_view key) const noexcept {
    return hash_bytes(key.data(), key.size());
  }
};

template <class A, class B>
struct key_hash<std::pair<A, B>> {
  uint64_t operator()(const std::pair<A, B>& key) const noexcept {
    auto h = key_hash<A>{}(key.first);
    return h ^ (key_hash<B>{}(key.second) + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2));
  }
};

template <class K>
struct key_hash<K, std::void_t<decltype(sluice_hash(std::declval<const K&>()))>> {
  uint64_t operator()(const K& key) const noexcept { return sluice_hash(key); }
};

/// Whether sluice can hash keys of type K.
template <class K>
concept hashable_key = requires(const K& key) {
  { key_hash<K>{}(key) } -> std::convertible_to<uint64_t>;
};

/// The hasher of a hash table of keys, such as an instance's keyed state: `key_hash` rotated
/// by half its width. Swiss tables (absl's) filter a probe's slots by the hash's low 7 bits,
/// and those pick the key group, which is alike for all keys an instance owns (a range of
/// groups); rotated, they are bits the key group does not depend on.
template <class K>
struct table_hash {
  size_t operator()(const K& key) const noexcept { return std::rotr(key_hash<K>{}(key), 32); }
};

/// The key group of a key: `hash(key) % max_parallelism`.
template <class K>
[[nodiscard]] uint32_t key_group_of(const K& key, uint32_t max_parallelism) noexcept {
  return static_cast<uint32_t>(key_hash<K>{}(key) % max_parallelism);
}

/// The instance that owns a key group: key groups are assigned in contiguous ranges, so
/// rescaling moves whole ranges of state (as Flink does).
[[nodiscard]] constexpr uint32_t instance_of_key_group(uint32_t key_group, uint32_t parallelism,
                                                       uint32_t max_parallelism) noexcept {
  return static_cast<uint32_t>(uint64_t{key_group} * parallelism / max_parallelism);
}

} // namespace sluice
