#include "arch/core/test_memory.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace npusim::arch {

FixedRateMemory::FixedRateMemory(const sc_core::sc_module_name& name, Tick latency, double bandwidth_Bps)
    : sc_core::sc_module(name), socket("socket"), latency_(latency), bandwidth_Bps_(bandwidth_Bps) {
  if (bandwidth_Bps <= 0) throw std::invalid_argument("FixedRateMemory: bandwidth must be positive");
  socket.register_b_transport(this, &FixedRateMemory::b_transport);
}

Tick FixedRateMemory::occupancy(Bytes bytes) const {
  return static_cast<Tick>(std::ceil(static_cast<double>(bytes) * 1e12 / bandwidth_Bps_ - 1e-6));
}

void FixedRateMemory::b_transport(int, tlm::tlm_generic_payload& trans, sc_core::sc_time& delay) {
  const Tick now = sc_core::sc_time_stamp().value();
  const Tick arrival = now + delay.value();
  const Bytes bytes = trans.get_data_length();
  const Tick start = std::max(arrival, channel_free_);
  channel_free_ = start + occupancy(bytes);
  delay = sc_core::sc_time::from_value(channel_free_ + latency_ - now);
  (trans.is_write() ? bytes_written_ : bytes_read_) += bytes;
  ++requests_;
  trans.set_response_status(tlm::TLM_OK_RESPONSE);
}

}  // namespace npusim::arch
