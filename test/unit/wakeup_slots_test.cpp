#include "core/wakeup_slots.hpp"

#include <gtest/gtest.h>

namespace awf {
namespace {

// The same values sql/install.sql pins for awf.definition_slot: the extension and the bridge must
// agree on the hash forever, so any change here is a protocol break.
TEST(WakeupSlot, StableValues) {
  EXPECT_EQ(wakeup_slot("lp"), 1u);
  EXPECT_EQ(wakeup_slot("aidbox.bulk/import-resource-task"), 919u);
  EXPECT_EQ(wakeup_slot(""), 805u);  // the FNV offset basis modulo 1024
}

TEST(WakeupSlot, InRange) {
  for (const char *name : {"a", "aidbox.bulk/import-resource-task", "awf.workflow/decision-task"})
    EXPECT_LT(wakeup_slot(name), kWakeupSlots);
}

}  // namespace
}  // namespace awf
