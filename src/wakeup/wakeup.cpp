#include "wakeup/wakeup.hpp"

#include <cstring>

#include "core/wakeup_slots.hpp"

extern "C" {
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "storage/spin.h"
}

namespace awf::wakeup {

namespace {

struct Shared {
  slock_t lock;  // guards the counters below; held for a few hundred ns at most
  // Random, chosen when shared memory is made: after a restart (or crash restart) the counters
  // start again from 0, and a reader that remembers old generations must know to start over.
  uint64 epoch;
  uint64 generation;
  uint64 slot_generation[kWakeupSlots];
  uint64 slot_readied[kWakeupSlots];
  ConditionVariable ready;  // broadcast after every publish
  // Grows with every committed change of awf.definition; read without the lock.
  pg_atomic_uint64 definition_changes;
};

Shared *shared = nullptr;
shmem_request_hook_type prev_shmem_request_hook = nullptr;
shmem_startup_hook_type prev_shmem_startup_hook = nullptr;

// Notes of the current transaction: tasks made ready per slot, and which slots were touched.
// Static arrays, so that noting and publishing never allocate.
uint32 pending_count[kWakeupSlots];
uint32 pending_slots[kWakeupSlots];
uint32 pending_n = 0;
bool pending_definition_change = false;

void clear_pending() {
  for (uint32 i = 0; i < pending_n; ++i) pending_count[pending_slots[i]] = 0;
  pending_n = 0;
  pending_definition_change = false;
}

// Runs after the commit is visible to other sessions, so a woken waiter's next snapshot sees the
// tasks. Must not fail: only a spinlock, plain stores and SetLatch.
void publish_pending() {
  if (pending_definition_change && shared != nullptr)
    pg_atomic_fetch_add_u64(&shared->definition_changes, 1);
  pending_definition_change = false;
  if (pending_n == 0) return;
  if (shared != nullptr) {
    SpinLockAcquire(&shared->lock);
    const uint64 generation = ++shared->generation;
    for (uint32 i = 0; i < pending_n; ++i) {
      const uint32 slot = pending_slots[i];
      shared->slot_generation[slot] = generation;
      shared->slot_readied[slot] += pending_count[slot];
    }
    SpinLockRelease(&shared->lock);
    ConditionVariableBroadcast(&shared->ready);
  }
  clear_pending();
}

void on_xact_event(XactEvent event, void *) {
  switch (event) {
    case XACT_EVENT_COMMIT:
    case XACT_EVENT_PARALLEL_COMMIT:
      publish_pending();
      break;
    case XACT_EVENT_ABORT:
    case XACT_EVENT_PARALLEL_ABORT:
    case XACT_EVENT_PREPARE:  // visible only at COMMIT PREPARED; waiters re-poll every second
      clear_pending();
      break;
    default:
      break;
  }
}

void shmem_request() {
  if (prev_shmem_request_hook) prev_shmem_request_hook();
  RequestAddinShmemSpace(MAXALIGN(sizeof(Shared)));
}

void shmem_startup() {
  if (prev_shmem_startup_hook) prev_shmem_startup_hook();
  LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
  bool found = false;
  shared = static_cast<Shared *>(ShmemInitStruct("pg_awf wakeups", sizeof(Shared), &found));
  if (!found) {
    std::memset(shared, 0, sizeof(Shared));
    if (!pg_strong_random(&shared->epoch, sizeof shared->epoch))
      shared->epoch = static_cast<uint64>(GetCurrentTimestamp());
    SpinLockInit(&shared->lock);
    pg_atomic_init_u64(&shared->definition_changes, 0);
    ConditionVariableInit(&shared->ready);
  }
  LWLockRelease(AddinShmemInitLock);
}

}  // namespace

void request_shared_memory() {
  prev_shmem_request_hook = shmem_request_hook;
  shmem_request_hook = shmem_request;
  prev_shmem_startup_hook = shmem_startup_hook;
  shmem_startup_hook = shmem_startup;
}

void register_hooks() { RegisterXactCallback(on_xact_event, nullptr); }

bool available() { return shared != nullptr; }

void note_ready(std::string_view definition, uint32_t count) noexcept {
  if (shared == nullptr || count == 0) return;
  const uint32 slot = wakeup_slot(definition);
  if (pending_count[slot] == 0) pending_slots[pending_n++] = slot;
  pending_count[slot] += count;
}

uint64_t snapshot(uint64_t since, std::vector<SlotState> &changed) {
  changed.clear();
  if (shared == nullptr) return 0;
  // Copy under the lock, build the vector (which allocates) after releasing it.
  static uint64 generations[kWakeupSlots];
  static uint64 readied[kWakeupSlots];
  SpinLockAcquire(&shared->lock);
  const uint64 generation = shared->generation;
  std::memcpy(generations, shared->slot_generation, sizeof generations);
  std::memcpy(readied, shared->slot_readied, sizeof readied);
  SpinLockRelease(&shared->lock);
  for (uint32 slot = 0; slot < kWakeupSlots; ++slot)
    if (generations[slot] > since) changed.push_back({slot, generations[slot], readied[slot]});
  return generation;
}

uint64_t slot_generation(uint32_t slot) {
  if (shared == nullptr) return 0;
  SpinLockAcquire(&shared->lock);
  const uint64 value = shared->slot_generation[slot % kWakeupSlots];
  SpinLockRelease(&shared->lock);
  return value;
}

void note_definition_change() noexcept { pending_definition_change = shared != nullptr; }

uint64_t definition_changes() {
  return shared == nullptr ? 0 : pg_atomic_read_u64(&shared->definition_changes);
}

uint64_t epoch() { return shared == nullptr ? 0 : shared->epoch; }

uint64_t generation() {
  if (shared == nullptr) return 0;
  SpinLockAcquire(&shared->lock);
  const uint64 value = shared->generation;
  SpinLockRelease(&shared->lock);
  return value;
}

namespace detail {
ConditionVariable *condition() { return &shared->ready; }
}  // namespace detail

}  // namespace awf::wakeup
