#pragma once

#include <cstdint>
#include <string>

#include <caf/error.hpp>

namespace sluice {

/// Error codes of Sluice; the message of each error names what failed.
enum class errc : uint8_t {
  invalid_pipeline = 1, ///< The pipeline description is wrong (parallelism 0, no sink, ...).
  operator_failed,      ///< A user function or operator threw.
  io_failed,            ///< A file or device could not be read or written.
  state_failed,         ///< Keyed state could not be read or written.
  cancelled,            ///< The job was cancelled.
  gave_up,              ///< A supervisor gave up after too many restarts.
};

/// Makes a Sluice error carrying a human-readable message.
[[nodiscard]] caf::error make_error(errc code, std::string message);

/// The message of an error made by Sluice, or CAF's rendering of any other error.
[[nodiscard]] std::string describe(const caf::error& err);

/// Renders a Sluice error code.
[[nodiscard]] std::string to_string(errc code);

} // namespace sluice
