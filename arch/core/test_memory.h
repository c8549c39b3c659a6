#pragma once
// A fixed-rate memory target for core tests and benchmarks, so they do not
// depend on the DRAM model. It is one FCFS channel: a request starts when
// the channel is free, occupies it for bytes / bandwidth, and its last byte
// arrives `latency` after that. No banks, rows or refresh — it is honest
// about being a bandwidth-and-latency bound, nothing more. Any number of
// initiators may bind to its socket.
#include <cstdint>

#include <systemc>
#include <tlm>
#include <tlm_utils/multi_passthrough_target_socket.h>

#include "common/units.h"

namespace npusim::arch {

class FixedRateMemory : public sc_core::sc_module {
 public:
  tlm_utils::multi_passthrough_target_socket<FixedRateMemory> socket;

  FixedRateMemory(const sc_core::sc_module_name& name, Tick latency, double bandwidth_Bps);

  Tick latency() const { return latency_; }
  double bandwidth_Bps() const { return bandwidth_Bps_; }
  // Delay a request of `bytes` issued at an idle channel sees.
  Tick idle_delay(Bytes bytes) const { return occupancy(bytes) + latency_; }
  Tick occupancy(Bytes bytes) const;

  std::uint64_t bytes_read() const { return bytes_read_; }
  std::uint64_t bytes_written() const { return bytes_written_; }
  std::uint64_t requests() const { return requests_; }

 private:
  void b_transport(int initiator, tlm::tlm_generic_payload& trans, sc_core::sc_time& delay);

  Tick latency_;
  double bandwidth_Bps_;
  Tick channel_free_ = 0;
  std::uint64_t bytes_read_ = 0;
  std::uint64_t bytes_written_ = 0;
  std::uint64_t requests_ = 0;
};

}  // namespace npusim::arch
