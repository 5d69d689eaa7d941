// list state: take() hands the current key's list over and removes it, in memory, with a TTL
// and in LMDB across a checkpoint and a reopen; a short list is held in place, a long one whole

#include <catch2/catch.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "support/test_support.hpp"

using namespace sluice;
using namespace std::chrono_literals;

namespace {

/// Adds 1..n to key 1's list and 100 to key 2's, takes key 1's list, and checks what is left.
void take_one_key(const std::shared_ptr<keyed_table<int, list_values<int>>>& table) {
  const int* key = nullptr;
  const int* const* current = &key;
  list_state<int, int> list{table, current};
  int one = 1;
  int two = 2;
  key = &one;
  for (int i = 1; i <= 5; ++i)
    list.add(i);
  key = &two;
  list.add(100);

  key = &one;
  CHECK(list.take() == list_values<int>{1, 2, 3, 4, 5});
  CHECK(list.get().empty());
  CHECK(table->find(1) == nullptr); // removed, not left as an empty list
  CHECK(list.take().empty());       // nothing left to take
  list.add(6);                      // a new list starts afresh
  CHECK(list.get() == std::vector<int>{6});
  key = &two;
  CHECK(list.get() == std::vector<int>{100});
}

} // namespace

TEST_CASE("list state's take returns the key's list and removes it, in memory") {
  take_one_key(std::make_shared<memory_table<int, list_values<int>>>());
}

TEST_CASE("list state's take of an expired list returns nothing") {
  timestamp now = 0;
  auto inner = std::make_shared<memory_table<int, timed_value<list_values<int>>>>();
  auto table = std::make_shared<ttl_table<int, list_values<int>>>(inner, state_ttl{100ms},
                                                                  [&] { return now; });
  take_one_key(table);

  const int* key = nullptr;
  list_state<int, int> list{table, &key};
  int three = 3;
  key = &three;
  list.add(7);
  now = 150; // expired
  CHECK(list.take().empty());
  CHECK(inner->find(3) == nullptr);
}

TEST_CASE("list state's take in LMDB removes the list from the next checkpoint") {
  for (size_t overlay : {size_t{1}, size_t{1} << 20}) {
    INFO("overlay of " << overlay << " entries");
    test::temp_dir dir;
    state_options options;
    options.backend = state_backend::lmdb;
    options.directory = dir.file("s");
    options.overlay_entries = overlay;
    {
      state_store store{options};
      auto table = store.table<int, list_values<int>>("lists");
      const int* key = nullptr;
      list_state<int, int> list{table, &key};
      int one = 1;
      int two = 2;
      key = &one;
      list.add(1);
      list.add(2);
      key = &two;
      list.add(3);
      store.checkpoint(1);
      store.complete(1);
      key = &one;
      CHECK(list.take() == list_values<int>{1, 2}); // read back from LMDB when it spilled
      store.checkpoint(2);
      store.complete(2);
    }
    state_store store{options};
    auto table = store.table<int, list_values<int>>("lists");
    CHECK(table->find(1) == nullptr);
    REQUIRE(table->find(2) != nullptr);
    CHECK(*table->find(2) == list_values<int>{3});
  }
}

namespace {

/// Whether `values` are held inside the object rather than in memory allocated for them.
template <class V>
bool held_in_place(const list_values<V>& values) {
  auto* begin = reinterpret_cast<const char*>(&values);
  auto* data = reinterpret_cast<const char*>(values.data());
  return data >= begin && data < begin + sizeof(values);
}

/// A list of numbers and a list of words per int key, in one state store.
struct numbers_and_words {
  explicit numbers_and_words(state_store& store)
    : numbers(store.table<int, list_values<uint64_t>>("numbers")),
      words(store.table<int, list_values<std::string>>("words")) {}

  void select(int k) { key = k; }

  std::shared_ptr<keyed_table<int, list_values<uint64_t>>> numbers;
  std::shared_ptr<keyed_table<int, list_values<std::string>>> words;
  int key = 0;
  const int* current = &key;
  list_state<int, uint64_t> number_list{numbers, &current};
  list_state<int, std::string> word_list{words, &current};
};

const std::string long_word =
  "a word longer than the fifteen characters std::string keeps in place";

} // namespace

TEST_CASE("list state holds a short list in place and a long one whole, in LMDB across a reopen") {
  test::temp_dir dir;
  state_options options;
  options.backend = state_backend::lmdb;
  options.directory = dir.file("s");
  constexpr auto in_place = list_values_in_place<uint64_t>;
  STATIC_REQUIRE(in_place >= 1);
  STATIC_REQUIRE(list_values_in_place<std::string> == 1);
  std::vector<uint64_t> short_list;
  for (uint64_t i = 0; i < in_place; ++i)
    short_list.push_back(i + 7);
  std::vector<uint64_t> long_list;
  for (uint64_t i = 0; i < 1000; ++i)
    long_list.push_back(i * i);
  {
    state_store store{options};
    numbers_and_words lists{store};
    lists.select(1);
    for (auto n : short_list)
      lists.number_list.add(n);
    lists.word_list.add(long_word);
    CHECK(held_in_place(*lists.numbers->find(1)));
    CHECK(held_in_place(*lists.words->find(1)));
    lists.select(2);
    lists.number_list.update(long_list);
    lists.word_list.add("one");
    lists.word_list.add("two");
    CHECK_FALSE(held_in_place(*lists.numbers->find(2)));
    CHECK_FALSE(held_in_place(*lists.words->find(2)));
    store.checkpoint(1);
    store.complete(1);
  }
  state_store store{options};
  numbers_and_words lists{store};
  lists.select(1);
  CHECK(lists.number_list.get() == short_list);
  CHECK(lists.word_list.get() == std::vector<std::string>{long_word});
  lists.select(2);
  CHECK(lists.number_list.get() == long_list);
  CHECK(lists.word_list.get() == std::vector<std::string>{"one", "two"});
}
