#pragma once
// Sits in front of the block that serves the HBM tier and peels off the
// stream-queue and barrier windows (address_map.h): those go to the queues,
// everything else passes through untouched, delay included.
#include <systemc>
#include <tlm>
#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/simple_target_socket.h>

namespace npusim::arch {

class StreamRouter : public sc_core::sc_module {
 public:
  tlm_utils::simple_target_socket<StreamRouter> in;
  tlm_utils::simple_initiator_socket<StreamRouter> to_memory;
  tlm_utils::simple_initiator_socket<StreamRouter> to_streams;

  explicit StreamRouter(const sc_core::sc_module_name& name);

 private:
  void b_transport(tlm::tlm_generic_payload& payload, sc_core::sc_time& delay);
};

}  // namespace npusim::arch
