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
    case errc::invalid_pipeline:
      return "invalid_pipeline";
    case errc::operator_failed:
      return "operator_failed";
    case errc::io_failed:
      return "io_failed";
    case errc::state_failed:
      return "state_failed";
    case errc::cancelled:
      return "cancelled";
    case errc::gave_up:
      return "gave_up";
  }
  return "unknown";
}

caf::error make_error(errc code, std::string message) {
  return caf::error{static_cast<uint8_t>(code), category, caf::make_message(std::move(message))};
}

std::string describe(const caf::error& err) {
  if (!err)
    return "no error";
  if (err.category() == category && err.context().match_elements<std::string>())
    return to_string(static_cast<errc>(err.code())) + ": " + err.context().get_as<std::string>(0);
  return caf::to_string(err);
}

} // namespace sluice
