#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <type_traits>
#include <utility>

#include "sluice/detail/huge_pages.hpp"

namespace sluice::detail {

/// Starts loading the cache line of `address`. An asm statement rather than
/// `__builtin_prefetch`: GCC takes a function that does nothing but prefetch for one without
/// effects and drops the calls to it.
inline void prefetch_line(const void* address) noexcept {
#if defined(__x86_64__)
  asm volatile("prefetcht0 %0" : : "m"(*static_cast<const char*>(address)));
#else
  __builtin_prefetch(address);
#endif
}

/// The hash map of an instance's keyed state in memory: open addressing with linear probing,
/// at most half full, erasing by shifting the entries behind back (no tombstones).
///
/// Why not Abseil's Swiss table, which it replaced here: keyed operators prefetch the entries
/// of a batch's keys before they process it (keyed_lookup::prefetch), and a miss in a table of
/// half a million keys costs more than the rest of a record's work. A Swiss table finds a
/// key's slot through the control bytes of a group of 16, so a prefetch can only guess which
/// of the group's cache lines to load; here a key's entry is at the slot its hash picks or,
/// at this load, rarely more than a slot or two after it, so `prefetch` loads the right line.
/// docs/architecture.md, "Keyed operators and state", has the measurements.
///
/// Each slot stores the hash it was placed by (with the top bit set, so that 0 marks an empty
/// slot): growing, shrinking and erasing never hash a key again. A map shrinks once fewer than
/// an eighth of its slots stayed full for as many insertions and erasures as it has slots (or
/// after `erase_if`): one that empties and fills again, as a tumbling window's state does at
/// every window, keeps its slots instead of growing anew each time. Iterators and references are
/// invalidated by every insertion and erasure.
template <class K, class V, class Hash>
class key_map {
public:
  using value_type = std::pair<K, V>;

  template <bool Const>
  class basic_iterator {
  public:
    using map_type = std::conditional_t<Const, const key_map, key_map>;
    using reference = std::conditional_t<Const, const value_type&, value_type&>;
    using pointer = std::conditional_t<Const, const value_type*, value_type*>;

    basic_iterator() = default;
    basic_iterator(map_type* map, size_t index) : map_(map), index_(index) { skip_empty(); }
    // A const iterator from a mutable one.
    template <bool Other>
    requires(Const && !Other) basic_iterator(const basic_iterator<Other>& other)
      : map_(other.map_), index_(other.index_) {}

    reference operator*() const { return map_->entry(index_); }
    pointer operator->() const { return &map_->entry(index_); }

    basic_iterator& operator++() {
      ++index_;
      skip_empty();
      return *this;
    }

    friend bool operator==(const basic_iterator& a, const basic_iterator& b) {
      return a.index_ == b.index_;
    }

  private:
    friend class key_map;
    template <bool>
    friend class basic_iterator;

    void skip_empty() {
      while (index_ < map_->capacity_ && map_->slots_[index_].mark == 0)
        ++index_;
    }

    map_type* map_ = nullptr;
    size_t index_ = 0;
  };

  using iterator = basic_iterator<false>;
  using const_iterator = basic_iterator<true>;

  key_map() = default;

  /// A copy with the same slots.
  key_map(const key_map& other)
    : slots_(other.capacity_ > 0 ? make_slots(other.capacity_) : nullptr),
      capacity_(other.capacity_) {
    for (size_t i = 0; i < capacity_; ++i)
      if (other.slots_[i].mark != 0) {
        construct(i, other.slots_[i].mark, value_type{other.entry(i)});
        ++size_;
      }
  }

  key_map& operator=(const key_map& other) {
    if (this != &other)
      *this = key_map{other};
    return *this;
  }

  /// The moved-from map is empty and can be used again.
  key_map(key_map&& other) noexcept
    : slots_(std::exchange(other.slots_, nullptr)),
      capacity_(std::exchange(other.capacity_, 0)),
      size_(std::exchange(other.size_, 0)) {}

  key_map& operator=(key_map&& other) noexcept {
    if (this != &other) {
      destroy_all();
      slots_ = std::exchange(other.slots_, nullptr);
      capacity_ = std::exchange(other.capacity_, 0);
      size_ = std::exchange(other.size_, 0);
    }
    return *this;
  }

  ~key_map() { destroy_all(); }

  [[nodiscard]] size_t size() const noexcept { return size_; }
  [[nodiscard]] bool empty() const noexcept { return size_ == 0; }
  /// How many slots it has: at most twice the entries it ever held, at most eight times
  /// the entries it holds (and at least 16), or none.
  [[nodiscard]] size_t capacity() const noexcept { return capacity_; }

  iterator begin() { return {this, 0}; }
  iterator end() { return {this, capacity_}; }
  const_iterator begin() const { return {this, 0}; }
  const_iterator end() const { return {this, capacity_}; }

  iterator find(const K& key) { return {this, index_of(key, mark_of(key))}; }
  const_iterator find(const K& key) const { return {this, index_of(key, mark_of(key))}; }
  [[nodiscard]] bool contains(const K& key) const { return find(key) != end(); }

  /// The entry of `key`, made with a value-initialized V if there is none; true if made.
  std::pair<iterator, bool> try_emplace(const K& key) {
    return emplace_with(key, [] { return V{}; });
  }

  /// The entry of `key`, made with `value` if there is none; true if made.
  std::pair<iterator, bool> emplace(const K& key, V value) {
    return emplace_with(key, [&] { return std::move(value); });
  }

  void erase(iterator i) {
    erase_at(i.index_);
    shrink_if_sparse(false);
  }

  /// Removes the entry of `key`; 1 if there was one, else 0.
  size_t erase(const K& key) {
    auto i = index_of(key, mark_of(key));
    if (i == capacity_)
      return 0;
    erase_at(i);
    shrink_if_sparse(false);
    return 1;
  }

  /// Removes every entry for which `pred(entry)` is true; `pred` sees each entry once.
  template <class Pred>
  void erase_if(Pred pred) {
    if (size_ == 0)
      return;
    // Start behind an empty slot: entries shift back only within a run of full slots, so
    // the walk meets each entry once, re-reading a slot an entry was just shifted into.
    size_t start = 0;
    while (slots_[start].mark != 0)
      ++start;
    for (size_t n = 0, i = (start + 1) & mask(); n < capacity_ - 1;) {
      if (slots_[i].mark != 0 && pred(std::as_const(entry(i)))) {
        erase_at(i);
        continue;
      }
      i = (i + 1) & mask();
      ++n;
    }
    shrink_if_sparse(true);
  }

  void clear() {
    destroy_all();
    slots_ = nullptr;
    capacity_ = 0;
    size_ = 0;
    sparse_changes_ = 0;
  }

  /// Starts loading the slot `key` would be found at into the cache, and the next cache line,
  /// where the slot may end and the run of full slots goes on.
  void prefetch(const K& key) const noexcept {
    if (capacity_ == 0)
      return;
    const auto* first = &slots_[mark_of(key) & mask()];
    prefetch_line(first);
    prefetch_line(reinterpret_cast<const char*>(first) + 64);
  }

private:
  struct slot {
    uint64_t mark = 0; // 0: empty; else the hash with its top bit set
    alignas(value_type) std::byte storage[sizeof(value_type)];
  };

  /// Slots in arrays of a huge page or more are on huge pages where the kernel has them: a
  /// table of a million keys spans ten thousand ordinary pages, more than the TLB holds, and
  /// a lookup at random (or its prefetch) waited for a page walk as well as for memory.
  /// docs/architecture.md, "Keyed operators and state", has the measurements.
  struct free_slots {
    std::align_val_t alignment{alignof(slot)};
    void operator()(slot* slots) const noexcept { ::operator delete[](slots, alignment); }
  };
  using slot_array = std::unique_ptr<slot[], free_slots>;

  static slot_array make_slots(size_t capacity) {
    auto bytes = capacity * sizeof(slot);
    bool huge = bytes >= huge_page_size;
    auto alignment = std::align_val_t{huge ? huge_page_size : alignof(slot)};
    auto* slots = static_cast<slot*>(::operator new[](bytes, alignment));
    if (huge)
      advise_huge_pages(slots, bytes); // before the first write, which maps the pages
    std::uninitialized_value_construct_n(slots, capacity); // all empty
    return slot_array{slots, free_slots{alignment}};
  }

  static constexpr uint64_t full_bit = uint64_t{1} << 63;
  static constexpr size_t min_capacity = 16;

  static uint64_t mark_of(const K& key) { return static_cast<uint64_t>(Hash{}(key)) | full_bit; }

  [[nodiscard]] size_t mask() const noexcept { return capacity_ - 1; }

  value_type& entry(size_t i) {
    return *std::launder(reinterpret_cast<value_type*>(slots_[i].storage));
  }
  const value_type& entry(size_t i) const {
    return *std::launder(reinterpret_cast<const value_type*>(slots_[i].storage));
  }

  /// The entry of `key`, made with the value `make()` returns if there is none; true if made.
  template <class Make>
  std::pair<iterator, bool> emplace_with(const K& key, Make&& make) {
    auto mark = mark_of(key);
    if (capacity_ == 0)
      grow();
    auto [i, found] = probe(key, mark);
    if (found)
      return {iterator{this, i}, false};
    if (2 * (size_ + 1) > capacity_) {
      grow();
      i = free_slot_for(mark);
    }
    construct(i, mark, value_type{key, make()});
    ++size_;
    count_change();
    return {iterator{this, i}, true};
  }

  /// The slot holding `key` and true, or the empty slot where its search ended (where it
  /// would be put) and false. The map has slots.
  std::pair<size_t, bool> probe(const K& key, uint64_t mark) const {
    for (size_t i = mark & mask();; i = (i + 1) & mask()) {
      const auto& s = slots_[i];
      if (s.mark == 0)
        return {i, false};
      if (s.mark == mark && entry(i).first == key)
        return {i, true};
    }
  }

  /// The slot holding `key`, or `capacity_` if none does.
  size_t index_of(const K& key, uint64_t mark) const {
    if (capacity_ == 0)
      return capacity_;
    auto [i, found] = probe(key, mark);
    return found ? i : capacity_;
  }

  size_t free_slot_for(uint64_t mark) const {
    auto i = mark & mask();
    while (slots_[i].mark != 0)
      i = (i + 1) & mask();
    return i;
  }

  void construct(size_t i, uint64_t mark, value_type&& value) {
    ::new (static_cast<void*>(slots_[i].storage)) value_type(std::move(value));
    slots_[i].mark = mark;
  }

  void destroy(size_t i) {
    entry(i).~value_type();
    slots_[i].mark = 0;
  }

  /// Empties slot `hole`, then moves each entry of the run behind it that may sit there back
  /// into the hole (one whose home slot is not between the hole and where it is).
  void erase_at(size_t hole) {
    destroy(hole);
    --size_;
    count_change();
    for (auto i = (hole + 1) & mask(); slots_[i].mark != 0; i = (i + 1) & mask()) {
      auto home = slots_[i].mark & mask();
      if (((i - home) & mask()) < ((i - hole) & mask()))
        continue; // its home lies after the hole: it stays
      construct(hole, slots_[i].mark, std::move(entry(i)));
      destroy(i);
      hole = i;
    }
  }

  void grow() { rehash(capacity_ == 0 ? min_capacity : 2 * capacity_); }

  /// Counts an insertion or erasure made while fewer than an eighth of the slots are full;
  /// one made while more are starts the count again.
  void count_change() noexcept {
    sparse_changes_ = 8 * size_ < capacity_ ? sparse_changes_ + 1 : 0;
  }

  /// Fewer than an eighth of the slots are full, and stayed so for as many changes as there
  /// are slots (or `now`): shrinks to a quarter full. A map that held many keys and holds few
  /// for good (state that comes and goes, say entries waiting for their key's first value)
  /// keeps no large array whose every lookup and prefetch misses the cache.
  void shrink_if_sparse(bool now) {
    if (capacity_ <= min_capacity || 8 * size_ >= capacity_)
      return;
    if (!now && sparse_changes_ < capacity_)
      return;
    auto capacity = min_capacity;
    while (capacity < 4 * size_)
      capacity *= 2;
    rehash(capacity);
  }

  void rehash(size_t capacity) {
    sparse_changes_ = 0;
    auto old = std::move(slots_);
    auto old_capacity = capacity_;
    capacity_ = capacity;
    slots_ = make_slots(capacity_);
    for (size_t i = 0; i < old_capacity; ++i) {
      auto& s = old[i];
      if (s.mark == 0)
        continue;
      auto& moved = *std::launder(reinterpret_cast<value_type*>(s.storage));
      construct(free_slot_for(s.mark), s.mark, std::move(moved));
      moved.~value_type();
    }
  }

  void destroy_all() noexcept {
    if constexpr (!std::is_trivially_destructible_v<value_type>)
      for (size_t i = 0; i < capacity_; ++i)
        if (slots_[i].mark != 0)
          entry(i).~value_type();
  }

  slot_array slots_;
  size_t capacity_ = 0;
  size_t size_ = 0;
  /// Insertions and erasures since fewer than an eighth of the slots are full (count_change).
  size_t sparse_changes_ = 0;
};

} // namespace sluice::detail
