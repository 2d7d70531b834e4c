// Wakeup slots: a task definition maps to one of kWakeupSlots slots by a fixed hash, so the
// extension (which publishes "tasks of this definition became ready") and the bridge (which
// decides which waiting long-polls to wake) agree without sharing names. Pure C++.
#pragma once

#include <cstdint>
#include <string_view>

namespace awf {

constexpr uint32_t kWakeupSlots = 1024;

// FNV-1a (64-bit) of the definition's bytes, modulo kWakeupSlots. Stable across versions: the
// bridge of one version must agree with the extension of another.
uint32_t wakeup_slot(std::string_view definition);

}  // namespace awf
