#pragma once
// A scripted initiator for timing probes: its thread runs `script`, whose
// read()/write() calls issue one blocking transport each, wait the returned
// delay as a core's load/store engine would, and return the elapsed time.
#include <functional>
#include <string>

#include <systemc>
#include <tlm>
#include <tlm_utils/simple_initiator_socket.h>

#include "arch/noc/sim_time.h"
#include "common/units.h"

namespace npusim::test {

class ProbeInitiator : public sc_core::sc_module {
 public:
  SC_HAS_PROCESS(ProbeInitiator);

  tlm_utils::simple_initiator_socket<ProbeInitiator> out{"out"};
  std::function<void(ProbeInitiator&)> script;
  Tick finished = 0;

  explicit ProbeInitiator(sc_core::sc_module_name name) : sc_core::sc_module(name) { SC_THREAD(run); }

  Tick read(std::uint64_t address, Bytes bytes) { return issue(tlm::TLM_READ_COMMAND, address, bytes); }
  Tick write(std::uint64_t address, Bytes bytes) { return issue(tlm::TLM_WRITE_COMMAND, address, bytes); }

  // Sequential stream of `bytes` in requests of `chunk`; returns its duration.
  Tick stream(bool is_write, std::uint64_t address, Bytes bytes, Bytes chunk) {
    const Tick start = arch::now_tick();
    for (Bytes off = 0; off < bytes; off += chunk) issue(is_write ? tlm::TLM_WRITE_COMMAND : tlm::TLM_READ_COMMAND,
                                                         address + off, std::min(chunk, bytes - off));
    return arch::now_tick() - start;
  }

 private:
  Tick issue(tlm::tlm_command command, std::uint64_t address, Bytes bytes) {
    tlm::tlm_generic_payload p;
    p.set_command(command);
    p.set_address(address);
    p.set_data_ptr(nullptr);
    p.set_data_length(static_cast<unsigned int>(bytes));
    p.set_streaming_width(static_cast<unsigned int>(bytes));
    p.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
    sc_core::sc_time delay = sc_core::SC_ZERO_TIME;
    out->b_transport(p, delay);
    sc_core::wait(delay);
    return arch::to_tick(delay);
  }

  void run() {
    if (script) script(*this);
    finished = arch::now_tick();
  }
};

}  // namespace npusim::test
