#pragma once
// One hardware event flag with counting semantics: every set adds one, every
// wait consumes one and blocks while none is pending.
//
// A set carries the time it happens. Pipes run ahead of the kernel in their
// own local time (see ai_core.h), so a setter records its set without first
// synchronising, and a waiter that finds a pending set continues at
// max(its own time, the set's time) without synchronising either: the same
// time it would have resumed at had both synchronised. That needs the sets
// of one slot to be recorded in time order, which holds when one pipe sets
// the slot (a local flag: its source pipe) or when every setter records at
// the kernel's time (cross-core flags, whose setters synchronise first).
//
// The event fires only when someone is blocked on it, so a set that nobody
// waits for costs no kernel work.
#include <cstdint>

#include <systemc>

#include "arch/core/tick_queue.h"

namespace npusim::arch {

struct FlagSlot {
  TickQueue pending;  // times of the sets not yet consumed, oldest first
  std::uint32_t waiters = 0;
  sc_core::sc_event raised;

  void raise(Tick at) {
    pending.push(at);
    // Immediate notification: the waiter runs in this evaluation phase and
    // takes the set's time from the queue, with no delta cycle in between.
    if (waiters > 0) raised.notify();
  }
  bool try_take(Tick& at) {
    if (pending.empty()) return false;
    at = pending.pop();
    return true;
  }
  void reset() { pending.clear(); }
};

}  // namespace npusim::arch
