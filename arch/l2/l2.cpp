#include "arch/l2/l2.h"

#include <fmt/format.h>

#include "arch/noc/scoped_extension.h"
#include "arch/noc/sim_time.h"
#include "common/error.h"

namespace npusim::arch {

L2::L2(sc_core::sc_module_name name, const L2Config& config)
    : sc_core::sc_module(name),
      in("in"),
      to_memory("to_memory"),
      model_(L2Registry::instance().create(config.impl, config)) {
  in.register_b_transport(this, &L2::b_transport);
}

void L2::end_of_elaboration() {
  if (model_->needs_backing() && to_memory.size() == 0) {
    throw SimulationError(fmt::format("{}: this L2 forwards misses below, but nothing is bound to {}", name(),
                                      to_memory.name()));
  }
}

void L2::b_transport(int, tlm::tlm_generic_payload& payload, sc_core::sc_time& delay) {
  const Tick stamp = now_tick();
  RequestSource* source = nullptr;
  payload.get_extension(source);
  below_source_.core = source ? source->core : -1;
  const Tick done = model_->access(stamp + to_tick(delay), payload.get_command() == tlm::TLM_WRITE_COMMAND,
                                   payload.get_address(), payload.get_data_length(), *this);
  delay = to_sc_time(done - stamp);
  payload.set_response_status(tlm::TLM_OK_RESPONSE);
}

Tick L2::send_below(tlm::tlm_command command, Tick now, std::uint64_t address, Bytes bytes) {
  below_.set_command(command);
  below_.set_address(address);
  below_.set_data_ptr(nullptr);
  below_.set_data_length(static_cast<unsigned int>(bytes));
  below_.set_streaming_width(static_cast<unsigned int>(bytes));
  below_.set_byte_enable_ptr(nullptr);
  below_.set_dmi_allowed(false);
  below_.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
  const Tick stamp = now_tick();
  sc_core::sc_time delay = to_sc_time(now - stamp);
  {
    const ScopedExtension<RequestSource> tag(below_, below_source_);
    to_memory[0]->b_transport(below_, delay);
  }
  if (below_.is_response_error()) {
    throw SimulationError(fmt::format("{}: the memory below answered {} for {} B at {:#x}", name(),
                                      below_.get_response_string(), bytes, address));
  }
  return stamp + to_tick(delay);
}

Tick L2::fetch(Tick now, std::uint64_t address, Bytes bytes) {
  return send_below(tlm::TLM_READ_COMMAND, now, address, bytes);
}

void L2::write_back(Tick now, std::uint64_t address, Bytes bytes) {
  send_below(tlm::TLM_WRITE_COMMAND, now, address, bytes);
}

}  // namespace npusim::arch
