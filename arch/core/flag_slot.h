#pragma once
// One hardware event flag with counting semantics: every set adds one, every
// wait consumes one and blocks while none is pending. The event fires only
// when someone is blocked on it, so a set that nobody waits for costs no
// kernel work.
#include <cstdint>

#include <systemc>

namespace npusim::arch {

struct FlagSlot {
  std::uint32_t count = 0;
  std::uint32_t waiters = 0;
  sc_core::sc_event raised;

  void raise() {
    ++count;
    // Immediate notification: the waiter runs in this evaluation phase, at
    // the setter's time, with no delta cycle in between.
    if (waiters > 0) raised.notify();
  }
  bool try_take() {
    if (count == 0) return false;
    --count;
    return true;
  }
  void reset() { count = 0; }
};

}  // namespace npusim::arch
