#include "arch/stream/stream_router.h"

#include "arch/address_map.h"

namespace npusim::arch {

StreamRouter::StreamRouter(const sc_core::sc_module_name& name)
    : sc_module(name), in("in"), to_memory("to_memory"), to_streams("to_streams") {
  in.register_b_transport(this, &StreamRouter::b_transport);
}

void StreamRouter::b_transport(tlm::tlm_generic_payload& payload, sc_core::sc_time& delay) {
  if (is_stream_address(payload.get_address()) || is_barrier_address(payload.get_address())) {
    to_streams->b_transport(payload, delay);
  } else {
    to_memory->b_transport(payload, delay);
  }
}

}  // namespace npusim::arch
