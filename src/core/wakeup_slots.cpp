#include "core/wakeup_slots.hpp"

namespace awf {

uint32_t wakeup_slot(std::string_view definition) {
  uint64_t hash = 14695981039346656037ULL;
  for (unsigned char c : definition) {
    hash ^= c;
    hash *= 1099511628211ULL;
  }
  return static_cast<uint32_t>(hash % kWakeupSlots);
}

}  // namespace awf
