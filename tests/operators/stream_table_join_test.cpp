// The stream–table join functions on their own (in op::keyed_co_process): the lookup join meets
// a record with its key's value as it arrives; the temporal join with the value at the record's
// event time, once the watermark is there; both in keyed state, restored with the instance.

#include <catch2/catch.hpp>

#include <string>
#include <utility>
#include <vector>

#include "sluice/pipeline.hpp"
#include "sluice/testing/operator_harness.hpp"

using namespace sluice;
using sluice::testing::operator_harness;

namespace {

using click = std::pair<std::string, int>; // (user, id)
using change = table_change<std::string, std::string>;

/// "id@city", "-" for no city.
struct describe_click {
  std::string operator()(const click& c, const std::string* city) const {
    return std::to_string(c.second) + "@" + (city ? *city : "-");
  }
};

using left_joiner = detail::joiner<join_kind::left, click, std::string, describe_click>;
using click_key = decltype(&click::first);
using change_key = decltype(&change::key);

template <template <class, class, class, class> class Function>
using join_op = op::keyed_co_process<click, click_key, change, change_key, std::string,
                                     Function<click, std::string, std::string, left_joiner>>;

template <template <class, class, class, class> class Function>
join_op<Function> make_join() {
  return {&click::first, &change::key,
          Function<click, std::string, std::string, left_joiner>{left_joiner{describe_click{}}}};
}

change set(const std::string& user, const std::string& city) {
  return {user, std::nullopt, city};
}

change deleted(const std::string& user) {
  return {user, std::nullopt, std::nullopt};
}

} // namespace

TEST_CASE("a stream-table join meets each record with its key's value as it arrives") {
  operator_harness<join_op<detail::stream_table_lookup>> h{
    make_join<detail::stream_table_lookup>()};
  h.push_first(click{"u", 1});
  h.push_second(set("u", "Oslo"));
  h.push_first(click{"u", 2});
  auto checkpoint = h.snapshot();
  h.push_second(set("u", "Rome")); // after the snapshot: lost with the instance
  h.restore(make_join<detail::stream_table_lookup>(), checkpoint);
  h.push_first(click{"u", 3});
  h.push_second(deleted("u"));
  h.push_first(click{"u", 4});
  CHECK(h.take_values() == std::vector<std::string>{"1@-", "2@Oslo", "3@Oslo", "4@-"});
}

TEST_CASE("a temporal join meets each record with the value at its event time") {
  operator_harness<join_op<detail::temporal_table_join>> h{
    make_join<detail::temporal_table_join>()};
  h.push_second(set("u", "Oslo"), 10);
  h.push_second(set("u", "Rome"), 20);
  h.push_first(click{"u", 1}, 15);
  h.push_first(click{"u", 2}, 5);
  h.push_first(click{"u", 3}, 20);
  CHECK(h.output().empty());       // waiting for the watermark
  h.push_second(deleted("u"), 12); // late in arrival, early in event time
  h.push_watermark(20);
  CHECK(h.take_values() == std::vector<std::string>{"2@-", "1@-", "3@Rome"});
  h.push_first(click{"u", 4}, 20); // at the watermark: late
  CHECK(h.op().late_records() == 1);
  h.push_first(click{"u", 5}, 25);
  auto checkpoint = h.snapshot();
  h.push_second(set("u", "Lima"), 22); // after the snapshot: lost with the instance
  h.restore(make_join<detail::temporal_table_join>(), checkpoint);
  h.end_input();
  CHECK(h.take_values() == std::vector<std::string>{"5@Rome"});
}
