#pragma once

#include <iostream>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "sluice/context.hpp"
#include "sluice/interfaces.hpp"
#include "sluice/text.hpp"

namespace sluice::op {

/// A sink that prints one line per record to a stream (stdout by default). With several
/// instances each line is prefixed by the instance number, as Flink's print sink does.
template <class T>
class print {
public:
  using input_type = T;
  using output_type = no_output;

  explicit print(std::ostream& os = std::cout) : shared_(std::make_shared<shared>(os)) {}

  void open(context<no_output>& ctx) {
    if (ctx.info().parallelism > 1)
      prefix_ = std::to_string(ctx.info().index + 1) + "> ";
  }

  void on_batch(std::vector<record<T>>& records, context<no_output>&) {
    std::string text;
    for (const auto& r : records) {
      text += prefix_;
      text += to_text(r.value);
      text += '\n';
    }
    std::lock_guard<std::mutex> guard{shared_->mutex};
    shared_->os << text << std::flush;
  }

private:
  struct shared {
    explicit shared(std::ostream& s) : os(s) {}
    std::mutex mutex;
    std::ostream& os;
  };
  std::shared_ptr<shared> shared_;
  std::string prefix_;
};

} // namespace sluice::op

namespace sluice {

namespace op {

/// Makes a print sink for whatever record type the stream has.
struct print_factory {
  std::ostream* os;

  template <class T>
  print<T> bind() const {
    return print<T>{*os};
  }
};

} // namespace op

/// A sink printing one line per record to `os` (stdout by default).
inline op::print_factory print(std::ostream& os = std::cout) {
  return op::print_factory{&os};
}

} // namespace sluice
