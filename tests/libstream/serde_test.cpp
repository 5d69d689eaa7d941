// serde: text, raw bytes and JSON round trips, and bytes that do not decode as clear errors

#include <catch2/catch.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "sluice/serde.hpp"

using namespace sluice;

namespace {

struct reading {
  std::string sensor;
  int64_t value = 0;

  bool operator==(const reading&) const = default;
};

void tag_invoke(boost::json::value_from_tag, boost::json::value& json, const reading& r) {
  json = {{"sensor", r.sensor}, {"value", r.value}};
}

reading tag_invoke(boost::json::value_to_tag<reading>, const boost::json::value& json) {
  const auto& object = json.as_object();
  return {boost::json::value_to<std::string>(object.at("sensor")),
          boost::json::value_to<int64_t>(object.at("value"))};
}

/// The message of the serde_error that decoding `bytes` throws.
template <class S>
std::string decode_error(const S& serde, std::string_view bytes) {
  try {
    static_cast<void>(serde.decode(bytes));
  } catch (const serde_error& e) {
    return e.what();
  }
  FAIL("decoding did not throw");
  return {};
}

} // namespace

TEST_CASE("string and bytes serdes keep every byte") {
  std::string text{"caf\xc3\xa9 \0 end", 11};
  CHECK(string_serde{}.decode(string_serde{}.encode(text)) == text);
  std::vector<std::byte> bytes{std::byte{0}, std::byte{0xff}, std::byte{0x80}, std::byte{'a'}};
  auto encoded = bytes_serde{}.encode(bytes);
  CHECK(encoded.size() == 4);
  CHECK(bytes_serde{}.decode(encoded) == bytes);
  CHECK(bytes_serde{}.decode("").empty());
}

TEST_CASE("JSON serde round-trips values and user types") {
  json_serde<> any;
  auto value = any.decode(R"({"a": [1, 2.5, "x"], "b": null})");
  CHECK(value.at("a").at(2).as_string() == "x");
  CHECK(any.decode(any.encode(value)) == value);

  json_serde<reading> typed;
  reading r{"t1", -42};
  CHECK(typed.encode(r) == R"({"sensor":"t1","value":-42})");
  CHECK(typed.decode(R"( {"value": 7, "sensor": "t2"} )") == reading{"t2", 7});
}

TEST_CASE("bytes that are not JSON name where and what was wrong") {
  json_serde<> any;
  auto truncated = decode_error(any, R"({"a": 1)");
  CHECK_THAT(truncated, Catch::Contains("malformed JSON at byte 7"));
  CHECK_THAT(truncated, Catch::Contains(R"('{"a": 1')"));
  CHECK_THAT(decode_error(any, "[1] [2]"), Catch::Contains("malformed JSON at byte 4"));
  CHECK_THAT(decode_error(any, ""), Catch::Contains("malformed JSON at byte 0"));
  auto binary = decode_error(any, std::string(100, '\x01'));
  CHECK_THAT(binary, Catch::Contains("(100 bytes)"));

  json_serde<reading> typed;
  auto wrong_shape = decode_error(typed, R"({"sensor": "t1"})");
  CHECK_THAT(wrong_shape, Catch::Contains("JSON does not convert to the record type"));
  CHECK_THAT(wrong_shape, Catch::Contains(R"({"sensor": "t1"})"));
  CHECK_THAT(decode_error(typed, "[1, 2]"),
             Catch::Contains("JSON does not convert to the record type"));
}

TEST_CASE(
  "a nullable serde decodes values and refuses to encode none, which only Kafka can write") {
  nullable<json_serde<reading>> serde;
  reading r{"t1", 7};
  CHECK(serde.decode(serde.encode(r)) == std::optional{r});
  try {
    (void)serde.encode(std::nullopt);
    FAIL("none encoded");
  } catch (const serde_error& e) {
    CHECK_THAT(e.what(),
               Catch::Contains("no value to encode") && Catch::Contains("Kafka tombstone"));
  }
}
