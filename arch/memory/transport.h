#pragma once
// Conventions for every TLM-2.0 link between blocks of the machine.
//
// - Loosely timed, blocking: the initiator calls b_transport at its current
//   simulation time with delay == SC_ZERO_TIME.
// - Timing only: npusim moves no data. The payload's data pointer is null and
//   its length is the transfer size, which may be many KiB; targets never
//   dereference it.
// - The target returns with delay = (time the last byte is delivered) - now,
//   and the initiator waits that long: one event per transfer, however many
//   bursts it covers.
// - Targets keep reservation state (the time each bank, bus or link is next
//   free), so transfers from concurrent initiators contend for real.
#include <cstdint>

#include <tlm>

namespace npusim::arch {

// Who asked, so shared blocks can attribute traffic and contention.
struct RequestSource : tlm::tlm_extension<RequestSource> {
  int core = -1;  // global core index, -1 for a non-core initiator

  tlm::tlm_extension_base* clone() const override { return new RequestSource(*this); }
  void copy_from(const tlm::tlm_extension_base& other) override {
    core = static_cast<const RequestSource&>(other).core;
  }
};

}  // namespace npusim::arch
