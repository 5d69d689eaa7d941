#pragma once

#include <chrono>
#include <concepts>
#include <cstddef>
#include <vector>

#include "sluice/context.hpp"
#include "sluice/interfaces.hpp"
#include "sluice/record.hpp"

namespace sluice {

/// An operator: a plain object that turns batches of In into records of Out.
///
/// Required: `input_type`, `output_type` and `on_batch(std::vector<record<In>>&, context<Out>&)`.
/// Optional hooks: `open(context<Out>&)` before the first record, `on_watermark(timestamp,
/// context<Out>&)` when the instance's watermark advances, `on_end(context<Out>&)` at end of
/// stream, `on_checkpoint(uint64_t id, context<Out>&)` when the instance takes checkpoint `id`
/// (before its state is written and its barrier sent on), `on_checkpoint_complete(uint64_t id,
/// context<Out>&)` when every instance took it. A sink has `output_type = no_output`. Hooks may
/// throw; the host turns that into an error naming the operator and instance.
template <class Op>
concept operator_type = requires(Op& op, std::vector<record<typename Op::input_type>>& records,
                                 context<typename Op::output_type>& ctx) {
  op.on_batch(records, ctx);
};

/// What a source asks its host to do after `produce`.
struct source_step {
  enum class kind {
    more, ///< call again as soon as credit allows
    wait, ///< nothing to emit now: call again after `delay`
    done, ///< the source is exhausted: end of stream
  };
  kind what = kind::more;
  std::chrono::microseconds delay{0};

  static source_step more() { return {}; }
  static source_step wait(std::chrono::microseconds d) { return {kind::wait, d}; }
  static source_step done() { return {kind::done, {}}; }
};

/// A source: emits up to `max_records` records per `produce` call.
///
/// Required: `output_type`, `source_step produce(source_context<Out>&, size_t max_records)` and
/// `bool bounded() const`. Optional: `open(source_context<Out>&)`; `checkpoint_splits()` and
/// `restore_splits(std::vector<Split>)` to keep its position in checkpoints;
/// `on_checkpoint(uint64_t id)` when it takes checkpoint `id` (after `checkpoint_splits`),
/// `on_checkpoint_complete(uint64_t id)` when every instance took it. While output credit is
/// out, `produce` is not called.
template <class Src>
concept source_type = requires(Src& src, const Src& csrc,
                               source_context<typename Src::output_type>& ctx) {
  { src.produce(ctx, size_t{1}) } -> std::same_as<source_step>;
  { csrc.bounded() } -> std::convertible_to<bool>;
};

/// A sink: an operator without output.
template <class Op>
concept sink_type = operator_type<Op> && std::same_as<typename Op::output_type, no_output>;

} // namespace sluice
