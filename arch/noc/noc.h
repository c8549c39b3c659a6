#pragma once
// The on-chip network as a TLM-2.0 block. Core i binds its initiator socket to
// core_socket(i) (the socket identifies the source core); each configured
// memory-side port P is an initiator socket target_socket(P), named "to_<P>",
// that must be bound to that tier's target (an L2, a DRAM controller, an
// SRAM). Requests are routed by address tier (arch::tier_of) from the core
// whose socket they arrived on; a RequestSource the initiator attached goes
// down unchanged, and one naming that core is attached when there is none.
//
// Timing composition (transport.h: b_transport at the current time, delay 0
// in, delay to the last byte out; the downstream target is called the same way):
//   write: data crosses core -> port (Network::transfer); the target is asked
//          at `now`, and its answer is shifted by the request's header latency
//          because it cannot start before the head arrives:
//          done = max(network delivery, now + header + target delay).
//          Writes are posted: no acknowledgement crosses back.
//   read:  a one-flit request crosses core -> port (header latency, not
//          booked on the links); the target's data stream ends at
//          T = now + header + target delay, and the data crosses port -> core
//          as the memory returns it: the first link can finish no earlier than
//          one packet after T, each later hop pipelines behind it.
// The target sees the request at `now` rather than at now + header: header
// latencies are tens of cycles against a memory's hundreds, and shifting its
// answer keeps the target's own reservation state consistent.
#include <memory>
#include <string>
#include <vector>

#include <systemc>
#include <tlm>
#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/simple_target_socket.h>

#include "arch/memory/transport.h"
#include "arch/noc/network.h"

namespace npusim::arch {

class Noc : public sc_core::sc_module {
 public:
  using CoreSocket = tlm_utils::simple_target_socket_tagged<Noc>;
  using PortSocket = tlm_utils::simple_initiator_socket<Noc>;

  Noc(sc_core::sc_module_name name, const NocConfig& config);

  CoreSocket& core_socket(int core);
  PortSocket& target_socket(const std::string& port);

  const Network& network() const { return network_; }
  const StatGroup& stats() const { return network_.stats(); }

 private:
  void b_transport(int core, tlm::tlm_generic_payload& payload, sc_core::sc_time& delay);

  Network network_;
  std::vector<std::unique_ptr<CoreSocket>> cores_;
  std::vector<std::unique_ptr<PortSocket>> ports_;
  std::vector<Counter*> port_requests_;
  std::vector<int> route_;  // scratch, reused so a transfer allocates nothing
  RequestSource source_;    // attached for the call when the initiator sent none
};

}  // namespace npusim::arch
