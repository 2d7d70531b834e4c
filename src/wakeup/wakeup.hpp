// Wakeups without NOTIFY: when tasks become ready, the transaction that made them ready notes
// their definitions; after it commits (XACT_EVENT_COMMIT runs once the commit is visible to other
// sessions) the notes are published to shared memory and waiters are woken through a condition
// variable. Only exists when awf is in shared_preload_libraries; otherwise available() is false
// and callers fall back to polling.
//
// Shared state: a generation counter that grows with every publish, and per wakeup slot (see
// core/wakeup_slots.hpp) the generation of its last publish and the number of tasks made ready.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "pg/postgres.hpp"

namespace awf::wakeup {

// Shared memory hooks, called from _PG_init while preloading.
void request_shared_memory();
void register_hooks();

bool available();

// Notes that `count` tasks of `definition` became ready in the current transaction.
// Published at commit, dropped at abort. Never throws, never ereports.
void note_ready(std::string_view definition, uint32_t count = 1) noexcept;

struct SlotState {
  uint32_t slot;
  uint64_t generation;  // generation of the slot's last publish
  uint64_t readied;     // tasks made ready in this slot since startup
};

// The current generation and the slots published after `since` (all slots ever published when
// since is 0). Cheap: reads 1024 slots under a spinlock.
uint64_t snapshot(uint64_t since, std::vector<SlotState> &changed);

// The current generation of one slot.
uint64_t slot_generation(uint32_t slot);
uint64_t generation();
// Changes of awf.definition, published at commit like the notes above, so that backends can
// cache what they read from it (which definitions have a concurrency limit). Never throws.
void note_definition_change() noexcept;
// How many committed changes of awf.definition this incarnation has seen (0 without preload).
uint64_t definition_changes();

// Identifies this incarnation of the counters (they restart from 0 with shared memory).
uint64_t epoch();

// Sleeps until `changed()` returns true or timeout_ms passes; returns changed(). Wakes on every
// publish to re-check. Interruptible (query cancel, termination): those ereport, so call it
// through pg_call.
template <typename Predicate>
bool wait_until(Predicate changed, long timeout_ms);

namespace detail {
ConditionVariable *condition();
}

template <typename Predicate>
bool wait_until(Predicate changed, long timeout_ms) {
  const TimestampTz deadline = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), timeout_ms);
  ConditionVariable *cv = detail::condition();
  ConditionVariablePrepareToSleep(cv);
  bool result = changed();
  while (!result) {
    const long remaining_ms =
        static_cast<long>((deadline - GetCurrentTimestamp() + 999) / 1000);
    if (remaining_ms <= 0) break;
    ConditionVariableTimedSleep(cv, remaining_ms, PG_WAIT_EXTENSION);
    result = changed();
  }
  ConditionVariableCancelSleep();
  return result;
}

}  // namespace awf::wakeup
