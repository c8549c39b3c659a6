#pragma once
// The SystemC face of a DRAM tier: a TLM-2.0 blocking target that follows
// arch/memory/transport.h. b_transport converts the arrival time to DRAM
// cycles, lets DramController place every row-level request analytically,
// and returns the delay to the last data beat. It has no process, no event
// and never waits: contention lives in the controller's reservation state.
//
//   DramModule hbm("hbm", resolve_dram_config(node), Tier::hbm);
//   initiator.socket.bind(hbm.socket);
#include <string>

#include <systemc>
#include <tlm>
#include <tlm_utils/simple_target_socket.h>

#include "arch/address_map.h"
#include "arch/memory/dram/dram_controller.h"

namespace npusim::arch::dram {

class DramModule : public sc_core::sc_module {
 public:
  tlm_utils::simple_target_socket<DramModule> socket;

  // `tier` says which base to strip from absolute addresses.
  DramModule(sc_core::sc_module_name name, const DramConfig& config, Tier tier);

  DramController& controller() { return controller_; }
  // Timeline of this tier (process "hbm" or "ddr", one thread per
  // pseudo-channel, plus a bandwidth counter); null turns it off.
  void set_trace(TraceSink* sink);
  const StatGroup& stats() const { return controller_.stats().group(); }
  double peak_bandwidth_Bps() const { return controller_.config().peak_bandwidth_Bps(); }

 private:
  void b_transport(tlm::tlm_generic_payload& payload, sc_core::sc_time& delay);
  void end_of_simulation() override { controller_.flush_trace(); }

  Tier tier_;
  Clock clock_;
  DramController controller_;
};

}  // namespace npusim::arch::dram
