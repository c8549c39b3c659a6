#include "arch/core/core_stats.h"

#include <fmt/format.h>

namespace npusim::arch {

CoreStats::CoreStats(const std::string& core_name, CoreRole role, const CoreConfig& config)
    : group(core_name, fmt::format("{} ({} style)", core_role_name(role), core_style_name(config.style))) {
  for (int i = 0; i < kPipeCount; ++i) {
    const Pipe pipe = static_cast<Pipe>(i);
    if (!role_has_pipe(role, pipe)) continue;
    instructions[i] = &group.add_counter(fmt::format("instructions_{}", pipe_name(pipe)),
                                         fmt::format("instructions executed by the {} pipe", pipe_name(pipe)),
                                         "instructions");
    busy_cycles[i] = &group.add_counter(fmt::format("busy_cycles_{}", pipe_name(pipe)),
                                        fmt::format("core cycles the {} pipe was occupied", pipe_name(pipe)),
                                        "cycles");
  }
  if (role_has_pipe(role, Pipe::cube)) {
    for (const auto& [dtype, shape] : config.cube_shapes) {
      macs[dtype] = &group.add_counter(fmt::format("macs_{}", dtype_name(dtype)),
                                       fmt::format("multiply-accumulates done in {} (M*K*N, unpadded)",
                                                   dtype_name(dtype)),
                                       "MAC");
    }
  }
  vector_element_ops = &group.add_counter("vector_element_ops", "elements processed by vector instructions",
                                          "elements");
  gm_bytes_read = &group.add_counter("gm_bytes_read", "bytes read from GM (MTE2)", "B");
  gm_bytes_written = &group.add_counter("gm_bytes_written", "bytes written to GM (MTE3, FixPipe)", "B");
  gm_atomic_bytes =
      &group.add_counter("gm_atomic_bytes", "bytes of those written that were added atomically (read, then written)", "B");
  l1_bytes_in = &group.add_counter("l1_bytes_in", "bytes written into L1 (MTE2, FixPipe)", "B");
  l1_to_l0_bytes = &group.add_counter("l1_to_l0_bytes", "bytes moved L1 -> L0A/L0B (MTE1)", "B");
  l0c_bytes_out = &group.add_counter("l0c_bytes_out", "bytes moved out of L0C (FixPipe, L0C->UB)", "B");
  ub_bytes_in = &group.add_counter("ub_bytes_in", "bytes written into UB (MTE2, L0C->UB)", "B");
  flag_waits = &group.add_counter("flag_waits", "wait_flag instructions that had to block", "waits");
  cross_flag_waits = &group.add_counter("cross_flag_waits", "cross-core waits that had to block", "waits");
  process_activations = &group.add_counter("process_activations",
                                           "SystemC process resumptions of this core's threads", "activations");
}

}  // namespace npusim::arch
