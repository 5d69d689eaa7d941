#pragma once

#include <memory>
#include <type_traits>
#include <utility>

namespace sluice::detail {

/// Destroys `object` on a thread of its own, soon.
///
/// For what an exiting operator instance held in memory: freeing a state overlay of half a
/// million entries takes about 100 ms, and on a scheduler thread that holds up every actor
/// queued behind it, during a recovery the very upstream instance that is to replay to the
/// restarted one (docs/architecture.md, "Recovery time").
void dispose_in_background(std::shared_ptr<void> object);

/// Moves `object` out and destroys it on the disposal thread; `object` is left empty.
template <class T>
requires(!std::is_lvalue_reference_v<T>) void dispose_in_background(T&& object) {
  dispose_in_background(std::static_pointer_cast<void>(std::make_shared<T>(std::move(object))));
}

} // namespace sluice::detail
