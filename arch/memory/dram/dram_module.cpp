#include "arch/memory/dram/dram_module.h"

#include <cmath>

namespace npusim::arch::dram {
namespace {

Tick to_ticks(const sc_core::sc_time& t) { return static_cast<Tick>(std::llround(t.to_seconds() * 1e12)); }

}  // namespace

DramModule::DramModule(sc_core::sc_module_name name, const DramConfig& config, Tier tier)
    : sc_core::sc_module(name),
      socket("socket"),
      tier_(tier),
      clock_(config.clock()),
      controller_(config, std::string(basename())) {
  socket.register_b_transport(this, &DramModule::b_transport);
}

void DramModule::set_trace(TraceSink* sink) { controller_.set_trace(sink, tier_ == Tier::hbm ? "hbm" : "ddr"); }

void DramModule::b_transport(tlm::tlm_generic_payload& payload, sc_core::sc_time& delay) {
  const tlm::tlm_command command = payload.get_command();
  if (command == tlm::TLM_IGNORE_COMMAND) {
    payload.set_response_status(tlm::TLM_OK_RESPONSE);
    return;
  }
  // Initiators may send the global address or one already relative to the tier.
  std::uint64_t address = payload.get_address();
  if (tier_of(address) == tier_ && address >= tier_base(tier_)) address -= tier_base(tier_);
  const std::uint64_t length = payload.get_data_length();
  const std::uint64_t capacity = controller_.config().capacity;
  if (address >= capacity || length > capacity - address) {
    payload.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);
    return;
  }
  const Tick now = to_ticks(sc_core::sc_time_stamp());
  const Tick arrival_ticks = now + to_ticks(delay);
  // A request arriving between clock edges waits for the next one.
  const Cycles arrival = clock_.to_cycles_ceil(arrival_ticks);
  const Cycles done =
      controller_.access(address, length, command == tlm::TLM_WRITE_COMMAND, arrival);
  const Tick done_ticks = std::max(clock_.to_ticks(static_cast<double>(done)), arrival_ticks);
  delay = sc_core::sc_time(static_cast<double>(done_ticks - now), sc_core::SC_PS);
  payload.set_response_status(tlm::TLM_OK_RESPONSE);
}

}  // namespace npusim::arch::dram
