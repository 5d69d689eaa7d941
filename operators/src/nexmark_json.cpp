#include <chrono>
#include <cstdio>
#include <stdexcept>
#include <string>

#include "sluice/nexmark/json.hpp"

namespace sluice::nexmark {

namespace {

namespace json = boost::json;
using namespace std::chrono;

timestamp parse_time(const std::string& text, const char* field) {
  int y = 0;
  unsigned mo = 0, d = 0, h = 0, mi = 0, s = 0, ms = 0;
  int used = 0;
  if (std::sscanf(text.c_str(), "%d-%u-%u %u:%u:%u.%u%n", &y, &mo, &d, &h, &mi, &s, &ms, &used) != 7
      || static_cast<size_t>(used) != text.size())
    throw std::invalid_argument(std::string{"field '"} + field + "' is not a time as "
                                + "\"yyyy-MM-dd HH:mm:ss.SSS\": \"" + text + "\"");
  year_month_day date{year{y}, month{mo}, day{d}};
  if (!date.ok() || h > 23 || mi > 59 || s > 59 || ms > 999)
    throw std::invalid_argument(std::string{"field '"} + field + "' is not a valid time: \"" + text
                                + "\"");
  auto t = sys_days{date} + hours{h} + minutes{mi} + seconds{s} + milliseconds{ms};
  return duration_cast<milliseconds>(t.time_since_epoch()).count();
}

/// Reads the fields of one entity, naming what is wrong.
class fields {
public:
  fields(const json::value& json, const char* entity) : entity_(entity) {
    auto* object = json.if_object();
    if (!object)
      throw std::invalid_argument(std::string{"the "} + entity + " is not a JSON object");
    object_ = object;
  }

  [[nodiscard]] int64_t number(const char* name) const {
    auto& v = at(name);
    if (auto* i = v.if_int64())
      return *i;
    if (auto* u = v.if_uint64(); u && *u <= static_cast<uint64_t>(INT64_MAX))
      return static_cast<int64_t>(*u);
    throw wrong(name, "an integer");
  }

  [[nodiscard]] std::string text(const char* name) const {
    auto* s = at(name).if_string();
    if (!s)
      throw wrong(name, "a string");
    return std::string{*s};
  }

  [[nodiscard]] timestamp time(const char* name) const { return parse_time(text(name), name); }

private:
  const json::value& at(const char* name) const {
    auto* v = object_->if_contains(name);
    if (!v)
      throw std::invalid_argument(std::string{"the "} + entity_ + " has no field '" + name + "'");
    return *v;
  }

  std::invalid_argument wrong(const char* name, const char* expected) const {
    return std::invalid_argument(std::string{"field '"} + name + "' of the " + entity_ + " is not "
                                 + expected);
  }

  const char* entity_;
  const json::object* object_ = nullptr;
};

json::object to_json(const person& p) {
  return {{"id", p.id},
          {"name", p.name},
          {"emailAddress", p.email_address},
          {"creditCard", p.credit_card},
          {"city", p.city},
          {"state", p.state},
          {"dateTime", format_date_time(p.date_time)},
          {"extra", p.extra}};
}

json::object to_json(const auction& a) {
  return {{"id", a.id},
          {"itemName", a.item_name},
          {"description", a.description},
          {"initialBid", a.initial_bid},
          {"reserve", a.reserve},
          {"dateTime", format_date_time(a.date_time)},
          {"expires", format_date_time(a.expires)},
          {"seller", a.seller},
          {"category", a.category},
          {"extra", a.extra}};
}

json::object to_json(const bid& b) {
  return {{"auction", b.auction}, {"bidder", b.bidder}, {"price", b.price},
          {"channel", b.channel}, {"url", b.url},       {"dateTime", format_date_time(b.date_time)},
          {"extra", b.extra}};
}

person person_of(const json::value& json) {
  fields f{json, "person"};
  return {f.number("id"), f.text("name"),  f.text("emailAddress"), f.text("creditCard"),
          f.text("city"), f.text("state"), f.time("dateTime"),     f.text("extra")};
}

auction auction_of(const json::value& json) {
  fields f{json, "auction"};
  return {f.number("id"),       f.text("itemName"), f.text("description"), f.number("initialBid"),
          f.number("reserve"),  f.time("dateTime"), f.time("expires"),     f.number("seller"),
          f.number("category"), f.text("extra")};
}

bid bid_of(const json::value& json) {
  fields f{json, "bid"};
  return {f.number("auction"), f.number("bidder"), f.number("price"), f.text("channel"),
          f.text("url"),       f.time("dateTime"), f.text("extra")};
}

constexpr const char* entities[] = {"person", "auction", "bid"};

} // namespace

std::string format_date_time(timestamp ms) {
  using namespace std::chrono;
  sys_time<milliseconds> t{milliseconds{ms}};
  auto day = floor<days>(t);
  year_month_day date{day};
  hh_mm_ss time{t - day};
  char text[64];
  std::snprintf(text, sizeof text, "%04d-%02u-%02u %02lld:%02lld:%02lld.%03lld",
                static_cast<int>(date.year()), static_cast<unsigned>(date.month()),
                static_cast<unsigned>(date.day()), static_cast<long long>(time.hours().count()),
                static_cast<long long>(time.minutes().count()),
                static_cast<long long>(time.seconds().count()),
                static_cast<long long>(time.subseconds().count()));
  return text;
}

void tag_invoke(json::value_from_tag, json::value& out, const event& e) {
  json::object o;
  o["event_type"] = e.index();
  for (size_t i = 0; i < 3; ++i)
    o[entities[i]] = nullptr;
  std::visit([&](const auto& x) { o[entities[e.index()]] = to_json(x); }, e);
  out = std::move(o);
}

event tag_invoke(json::value_to_tag<event>, const json::value& json) {
  auto* o = json.if_object();
  if (!o)
    throw std::invalid_argument("a Nexmark event is a JSON object");
  auto* type = o->if_contains("event_type");
  if (!type || !type->is_int64() || type->as_int64() < 0 || type->as_int64() > 2)
    throw std::invalid_argument(
      "a Nexmark event needs \"event_type\": 0 (person), 1 (auction) or "
      "2 (bid)");
  auto kind = static_cast<size_t>(type->as_int64());
  auto* entity = o->if_contains(entities[kind]);
  if (!entity || entity->is_null())
    throw std::invalid_argument(std::string{"an event of type "} + std::to_string(kind)
                                + " needs its \"" + entities[kind] + "\"");
  switch (kind) {
    case 0:
      return person_of(*entity);
    case 1:
      return auction_of(*entity);
    default:
      return bid_of(*entity);
  }
}

} // namespace sluice::nexmark
