#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>

#include <caf/error.hpp>

namespace sluice {

/// What kind of failure an error is: what a caller can do about it.
enum class errc : uint8_t {
  /// The pipeline or the runtime's settings are wrong (parallelism 0, no sink, an unknown
  /// operator, exactly-once without checkpoints): fix them and run again.
  configuration = 1,
  /// A user function or an operator's hook threw: the message is the exception's.
  user_code,
  /// Keyed state could not be read or written (a full or unwritable disk, a corrupt
  /// environment, a state name used with other types); the subject is the path or table.
  state,
  /// A file could not be read or written, or bytes did not decode; the subject is the path.
  io,
  /// Kafka could not be reached, or refused or failed a request; the subject is the topic.
  kafka,
  /// Sluice's channel protocol broke (lost elements, an unknown channel, a recovery log that
  /// does not fit): a bug in Sluice, to be reported.
  protocol,
  /// The job was cancelled.
  cancelled,
  /// A supervisor gave up after too many restarts; `cause` is the code of the last failure.
  gave_up,
  /// A node of a cluster was lost (killed, cut off, or its connection dropped) with its
  /// instances; the subject is the node's name.
  node_lost,
};

/// Everything a Sluice error says, beyond its code.
struct error_info {
  errc code = errc::configuration;
  /// The operator instance that failed (empty and unset when the error is not an instance's).
  std::string pipeline;
  std::string operator_name;
  std::optional<uint32_t> instance;
  /// The path, topic, table or key involved, if any.
  std::string subject;
  /// What went wrong, for people.
  std::string message;
  /// For `errc::gave_up`: the code of the last failure (else `code`).
  errc cause = errc::configuration;
};

/// An exception that knows its error code and what it concerns: the state backend, the file
/// and Kafka operators throw these, so that the instance that fails reports the right code.
/// Anything else a hook throws is `errc::user_code`.
class failure : public std::runtime_error {
public:
  failure(errc code, const std::string& message, std::string subject = {})
    : std::runtime_error(message), code_(code), subject_(std::move(subject)) {}

  [[nodiscard]] errc code() const noexcept { return code_; }
  [[nodiscard]] const std::string& subject() const noexcept { return subject_; }

private:
  errc code_;
  std::string subject_;
};

/// Makes a Sluice error that is not an instance's.
[[nodiscard]] caf::error make_error(errc code, std::string message, std::string subject = {});

/// Makes a Sluice error with every field.
[[nodiscard]] caf::error make_error(const error_info& info);

/// A supervisor's `errc::gave_up` error saying `message`: it keeps what `last`, the last
/// failure, said of the failed instance (operator, instance, subject), with its code as the
/// cause.
[[nodiscard]] caf::error make_gave_up(std::string message, const caf::error& last);

/// The fields of an error made by Sluice; empty for any other error.
[[nodiscard]] std::optional<error_info> info_of(const caf::error& err);

/// "code: message" for an error made by Sluice, or CAF's rendering of any other error.
[[nodiscard]] std::string describe(const caf::error& err);

/// Renders a Sluice error code.
[[nodiscard]] std::string to_string(errc code);

} // namespace sluice
