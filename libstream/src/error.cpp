#include "sluice/error.hpp"

#include <caf/atom.hpp>
#include <caf/make_message.hpp>
#include <caf/message.hpp>

namespace sluice {

namespace {

constexpr auto category = caf::atom("sluice");

} // namespace

std::string to_string(errc code) {
  switch (code) {
    case errc::configuration:
      return "configuration";
    case errc::user_code:
      return "user_code";
    case errc::state:
      return "state";
    case errc::io:
      return "io";
    case errc::kafka:
      return "kafka";
    case errc::protocol:
      return "protocol";
    case errc::cancelled:
      return "cancelled";
    case errc::gave_up:
      return "gave_up";
    case errc::node_lost:
      return "node_lost";
  }
  return "unknown";
}

caf::error make_error(errc code, std::string message, std::string subject) {
  error_info info;
  info.code = code;
  info.cause = code;
  info.subject = std::move(subject);
  info.message = std::move(message);
  return make_error(info);
}

caf::error make_error(const error_info& info) {
  // The context holds the fields in order; an instance of -1 is none.
  int64_t instance = info.instance ? static_cast<int64_t>(*info.instance) : -1;
  return caf::error{static_cast<uint8_t>(info.code), category,
                    caf::make_message(info.pipeline, info.operator_name, instance, info.subject,
                                      info.message, static_cast<uint8_t>(info.cause))};
}

caf::error make_gave_up(std::string message, const caf::error& last) {
  auto info = info_of(last).value_or(error_info{});
  if (!info_of(last))
    info.cause = errc::user_code;
  info.code = errc::gave_up;
  info.message = std::move(message);
  return make_error(info);
}

std::optional<error_info> info_of(const caf::error& err) {
  if (!err || err.category() != category)
    return std::nullopt;
  const auto& ctx = err.context();
  if (!ctx.match_elements<std::string, std::string, int64_t, std::string, std::string, uint8_t>())
    return std::nullopt;
  error_info info;
  info.code = static_cast<errc>(err.code());
  info.pipeline = ctx.get_as<std::string>(0);
  info.operator_name = ctx.get_as<std::string>(1);
  if (auto instance = ctx.get_as<int64_t>(2); instance >= 0)
    info.instance = static_cast<uint32_t>(instance);
  info.subject = ctx.get_as<std::string>(3);
  info.message = ctx.get_as<std::string>(4);
  info.cause = static_cast<errc>(ctx.get_as<uint8_t>(5));
  return info;
}

std::string describe(const caf::error& err) {
  if (!err)
    return "no error";
  if (auto info = info_of(err))
    return to_string(info->code) + ": " + info->message;
  return caf::to_string(err);
}

} // namespace sluice
