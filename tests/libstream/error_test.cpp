// caf::error <-> error_info (code, operator, instance, subject, message); errors of real runs

#include <catch2/catch.hpp>

#include "support/test_support.hpp"

using namespace sluice;

TEST_CASE("a Sluice error carries every field through caf::error") {
  error_info e;
  e.code = errc::state;
  e.cause = errc::state;
  e.pipeline = "p";
  e.operator_name = "count";
  e.instance = 3;
  e.subject = "/var/state";
  e.message = "disk full";
  auto err = make_error(e);
  auto info = info_of(err);
  REQUIRE(info);
  CHECK(info->code == errc::state);
  CHECK(info->pipeline == "p");
  CHECK(info->operator_name == "count");
  CHECK(info->instance == 3u);
  CHECK(info->subject == "/var/state");
  CHECK(describe(err) == "state: disk full");

  auto plain = info_of(make_error(errc::cancelled, "stopped"));
  REQUIRE(plain);
  CHECK_FALSE(plain->instance);
  CHECK(plain->operator_name.empty());
  CHECK_FALSE(info_of(caf::error{}));
  CHECK_FALSE(info_of(caf::make_error(caf::sec::runtime_error)));
}

TEST_CASE("giving up keeps the failed instance and the code of its failure as the cause") {
  error_info last;
  last.code = last.cause = errc::kafka;
  last.operator_name = "sink";
  last.instance = 1;
  last.subject = "orders";
  auto info = info_of(make_gave_up("gave up", make_error(last)));
  REQUIRE(info);
  CHECK(info->code == errc::gave_up);
  CHECK(info->cause == errc::kafka);
  CHECK(info->operator_name == "sink");
  CHECK(info->instance == 1u);
  CHECK(info->subject == "orders");
}

TEST_CASE("an exception from user code is a user_code error naming the instance") {
  pipeline p{"user"};
  std::vector<int> out;
  p.source(from_collection(std::vector<int>{1, 2, 3}))
    .map([](int x) -> int { throw std::domain_error("bad " + std::to_string(x)); })
    .name("thrower")
    .sink(collect(out));
  runtime rt;
  auto info = info_of(rt.run(p));
  REQUIRE(info);
  CHECK(info->code == errc::user_code);
  CHECK(info->operator_name == "thrower");
  CHECK(info->instance == 0u);
  CHECK(info->subject.empty());
  CHECK_THAT(info->message, Catch::Contains("bad 1"));
}
