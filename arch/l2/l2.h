#pragma once
// The shared L2/SRAM tier as a TLM-2.0 block. `in` takes requests from one or
// more initiators (the NoC's "l2" or "sram" port, or cores bound directly);
// a cache sends its misses and
// write-backs through `to_memory`, which binds to the HBM controller (a
// scratchpad leaves it unbound). Both follow transport.h: called at the
// current time with delay 0, they return the delay to the last byte.
#include <memory>

#include <systemc>
#include <tlm>
#include <tlm_utils/multi_passthrough_initiator_socket.h>
#include <tlm_utils/multi_passthrough_target_socket.h>

#include "arch/l2/l2_model.h"
#include "arch/memory/transport.h"

namespace npusim::arch {

class L2 : public sc_core::sc_module, private Backing {
 public:
  tlm_utils::multi_passthrough_target_socket<L2> in;
  tlm_utils::multi_passthrough_initiator_socket<L2, 32, tlm::tlm_base_protocol_types, 1,
                                                sc_core::SC_ZERO_OR_MORE_BOUND>
      to_memory;

  L2(sc_core::sc_module_name name, const L2Config& config);

  const StatGroup& stats() const { return model_->stats(); }
  L2Model& model() { return *model_; }

 private:
  void b_transport(int initiator, tlm::tlm_generic_payload& payload, sc_core::sc_time& delay);
  void end_of_elaboration() override;

  Tick fetch(Tick now, std::uint64_t address, Bytes bytes) override;
  void write_back(Tick now, std::uint64_t address, Bytes bytes) override;
  Tick send_below(tlm::tlm_command command, Tick now, std::uint64_t address, Bytes bytes);

  std::unique_ptr<L2Model> model_;
  tlm::tlm_generic_payload below_;  // reused for every request to the tier below
  RequestSource below_source_;      // the requester of the access that caused it
};

}  // namespace npusim::arch
