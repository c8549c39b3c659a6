#pragma once
// A fixed-rate stand-in for a memory-side target, for timing probes of the
// blocks above it: one serial channel at `bytes_per_second`, plus a fixed
// `latency`. It follows transport.h like the real DRAM controller
// (arch/memory/dram) so tests pin the NoC and L2 to closed forms without
// depending on DRAM timing: a request of n bytes at time t completes at
// max(t, channel free) + n / rate + latency.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include <systemc>
#include <tlm>
#include <tlm_utils/simple_target_socket.h>

#include "arch/memory/transport.h"
#include "arch/noc/sim_time.h"
#include "common/units.h"

namespace npusim::test {

class FixedRateMemory : public sc_core::sc_module {
 public:
  struct Request {
    bool write;
    std::uint64_t address;
    Bytes bytes;
    int core;
  };

  tlm_utils::simple_target_socket<FixedRateMemory> in{"in"};

  FixedRateMemory(sc_core::sc_module_name name, double bytes_per_second, Tick latency)
      : sc_core::sc_module(name), ps_per_byte_(1e12 / bytes_per_second), latency_(latency) {
    in.register_b_transport(this, &FixedRateMemory::b_transport);
  }

  Tick transfer_ticks(Bytes bytes) const {
    return static_cast<Tick>(std::ceil(static_cast<double>(bytes) * ps_per_byte_ - 1e-6));
  }

  std::vector<Request> requests;
  Bytes bytes_read = 0;
  Bytes bytes_written = 0;

 private:
  void b_transport(tlm::tlm_generic_payload& p, sc_core::sc_time& delay) {
    const Tick stamp = arch::now_tick();
    const Tick start = std::max(stamp + arch::to_tick(delay), free_);
    free_ = start + transfer_ticks(p.get_data_length());
    const bool write = p.get_command() == tlm::TLM_WRITE_COMMAND;
    (write ? bytes_written : bytes_read) += p.get_data_length();
    arch::RequestSource* source = nullptr;
    p.get_extension(source);
    requests.push_back({write, p.get_address(), p.get_data_length(), source ? source->core : -1});
    delay = arch::to_sc_time(free_ + latency_ - stamp);
    p.set_response_status(tlm::TLM_OK_RESPONSE);
  }

  double ps_per_byte_;
  Tick latency_;
  Tick free_ = 0;
};

}  // namespace npusim::test
