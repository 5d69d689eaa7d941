// from_collection -> map / filter / flat_map / peek -> collect, at several parallelisms

#include <catch2/catch.hpp>

#include <atomic>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "support/test_support.hpp"

using namespace sluice;

namespace {

std::vector<int> numbers(int n) {
  std::vector<int> v;
  for (int i = 0; i < n; ++i)
    v.push_back(i);
  return v;
}

template <class T>
std::vector<T> sorted(std::vector<T> v) {
  std::sort(v.begin(), v.end());
  return v;
}

void split_digits(const int& x, emitter<int>& emit) {
  for (char c : std::to_string(x))
    emit(c - '0');
}

} // namespace

TEST_CASE("flat_map takes a plain function and deduces its output from the emitter") {
  pipeline p{"function"};
  std::vector<int> out;
  p.source(from_collection(std::vector<int>{12, 305})).flat_map(split_digits).sink(collect(out));
  runtime rt;
  REQUIRE_FALSE(rt.run(p));
  CHECK(out == std::vector<int>{1, 2, 3, 0, 5});
}

TEST_CASE("map, filter and flat_map give the same results at parallelism 1, 2 and 4") {
  std::vector<std::string> reference;
  for (int x : numbers(5000))
    if ((x * 3) % 2 == 0)
      for (int k = 0; k < x % 3; ++k)
        reference.push_back(std::to_string(x * 3) + "/" + std::to_string(k));
  for (uint32_t parallelism : {1u, 2u, 4u}) {
    INFO("parallelism " << parallelism);
    pipeline p{"stateless"};
    std::vector<std::string> out;
    p.source(from_collection(numbers(5000)))
      .map([](int x) { return x * 3; })
      .filter([](int x) { return x % 2 == 0; })
      .flat_map([](const int& x, emitter<std::string>& emit) {
        for (int k = 0; k < (x / 3) % 3; ++k)
          emit(std::to_string(x) + "/" + std::to_string(k));
      })
      .sink(collect(out));
    runtime rt{test::small_batches(parallelism)};
    REQUIRE_FALSE(rt.run(p));
    CHECK(sorted(out) == sorted(reference));
  }
}

TEST_CASE("flat_map with fn(T&&) moves records out, and under skip a failure keeps the record") {
  std::vector<std::string> lines;
  for (int i = 0; i < 2000; ++i)
    lines.push_back("line number " + std::to_string(i) + " long enough to live on the heap");
  pipeline p{"moving"};
  std::vector<std::string> out;
  std::vector<dead_letter> letters;
  p.source(from_collection(lines))
    .flat_map<std::string>([](std::string&& line, emitter<std::string>& emit) {
      auto taken = std::move(line);
      if (taken.starts_with("line number 1234 "))
        throw std::runtime_error("poison");
      emit(std::move(taken));
    })
    .name("take")
    .on_failure(failure_policy::skip)
    .sink(collect(out));
  p.dead_letters().sink(collect(letters));
  runtime rt{test::small_batches(2)};
  REQUIRE_FALSE(rt.run(p));
  auto expected = lines;
  std::erase(expected, lines[1234]);
  CHECK(sorted(out) == sorted(expected));
  REQUIRE(letters.size() == 1);
  CHECK_THAT(letters.front().payload, Catch::Contains(lines[1234]));
  // Without skip the function gets the record itself.
  pipeline q{"moving-without-skip"};
  out.clear();
  q.source(from_collection(lines))
    .flat_map<std::string>(
      [](std::string&& line, emitter<std::string>& emit) { emit(std::move(line)); })
    .sink(collect(out));
  auto error = rt.run(q);
  INFO(describe(error));
  REQUIRE_FALSE(error);
  CHECK(sorted(out) == sorted(lines));
}

TEST_CASE("flat_map accepts a function returning a range and map may change the type") {
  pipeline p{"ranges"};
  std::vector<std::string> out;
  p.source(from_collection(std::vector<std::string>{"a b", "c", "", "d e f"}))
    .flat_map([](const std::string& line) {
      std::vector<std::string> words;
      std::istringstream in{line};
      for (std::string w; in >> w;)
        words.push_back(w);
      return words;
    })
    .map([](std::string w) { return w + "!"; })
    .sink(collect(out));
  runtime rt;
  REQUIRE_FALSE(rt.run(p));
  CHECK(out == std::vector<std::string>{"a!", "b!", "c!", "d!", "e!", "f!"});
}

TEST_CASE("a single-instance chain keeps the order of its input") {
  pipeline p{"order"};
  std::vector<int> out;
  p.source(from_collection(numbers(10000)))
    .map([](int x) { return x + 1; })
    .filter([](int x) { return x % 7 != 0; })
    .sink(collect(out));
  runtime rt{test::small_batches()};
  REQUIRE_FALSE(rt.run(p));
  std::vector<int> expected;
  for (int x : numbers(10000))
    if ((x + 1) % 7 != 0)
      expected.push_back(x + 1);
  CHECK(out == expected);
}

TEST_CASE("peek sees every record once and passes it on unchanged") {
  auto peeked = std::make_shared<std::atomic<int>>(0);
  pipeline p{"peek"};
  std::vector<int> out;
  p.source(from_collection(numbers(3000)))
    .parallelism(2)
    .peek([peeked](const int&) { peeked->fetch_add(1); })
    .parallelism(2)
    .sink(collect(out));
  runtime rt{test::small_batches()};
  REQUIRE_FALSE(rt.run(p));
  CHECK(peeked->load() == 3000);
  CHECK(sorted(out) == numbers(3000));
}

TEST_CASE("union merges streams and ends when every input has ended") {
  pipeline p{"union"};
  std::vector<int> out;
  auto a = p.source(from_collection(numbers(1000)));
  auto b =
    p.source(from_collection(numbers(500))).parallelism(3).map([](int x) { return x + 1000; });
  auto c = p.source(from_collection(std::vector<int>{}));
  a.union_with(b, c).map([](int x) { return x; }).parallelism(2).sink(collect(out));
  runtime rt{test::small_batches()};
  REQUIRE_FALSE(rt.run(p));
  CHECK(sorted(out) == numbers(1500));
}

TEST_CASE("broadcast sends every record to every instance and rebalance to exactly one") {
  pipeline p{"fanout"};
  std::vector<int> broadcasted;
  std::vector<int> rebalanced;
  auto s = p.source(from_collection(numbers(1000)));
  s.broadcast().map([](int x) { return x; }).parallelism(3).sink(collect(broadcasted));
  s.rebalance().map([](int x) { return x; }).parallelism(3).sink(collect(rebalanced));
  runtime rt{test::small_batches()};
  REQUIRE_FALSE(rt.run(p));
  std::vector<int> three_times;
  for (int x : numbers(1000))
    three_times.insert(three_times.end(), {x, x, x});
  CHECK(sorted(broadcasted) == sorted(three_times));
  CHECK(sorted(rebalanced) == numbers(1000));
}

TEST_CASE("a process function emits any number of records per input") {
  pipeline p{"process"};
  std::vector<std::string> out;
  p.source(from_collection(numbers(4)))
    .process<std::string>([](const int& x, context<std::string>& ctx) {
      for (int i = 0; i < x; ++i)
        ctx.emit(std::to_string(x));
    })
    .sink(collect(out));
  runtime rt;
  REQUIRE_FALSE(rt.run(p));
  CHECK(out == std::vector<std::string>{"1", "2", "2", "3", "3", "3"});
}
