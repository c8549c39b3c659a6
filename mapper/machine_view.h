#pragma once
// What the mapper needs to know about the machine: capacities, shapes and
// rates, as plain numbers. Built from the resolved hardware config by the
// driver, so the mapper never sees YAML or SystemC.
#include <array>
#include <cstdint>
#include <map>

#include "common/dtype.h"
#include "common/units.h"

namespace npusim::mapper {

struct MachineView {
  int cube_cores = 1;
  int vector_cores = 0;  // AIVs on split cores; 0 on coupled cores
  bool split_cores = true;
  double core_clock_hz = 1e9;

  Bytes l1 = 0, l0a = 0, l0b = 0, l0c = 0, ub = 0;
  Bytes bias_table = 0;  // the cube's bias table (BT): initial accumulator values
  // Cube fractal shape (m0, k0, n0) per operand precision it supports.
  std::map<DType, std::array<std::uint32_t, 3>> cube_shape;
  bool sparse_cube = false;
  double sparse_gain = 1.0;
  double cube_fill_drain_cycles = 0;

  Bytes vector_width_bytes = 256;

  // Per-core path rates, bytes per core cycle.
  double gm_read_Bpc = 32;    // MTE2 from GM
  double gm_write_Bpc = 32;   // MTE3 / fixpipe to GM
  double l1_to_l0a_Bpc = 512;
  double l1_to_l0b_Bpc = 256;
  double l1_to_bias_table_Bpc = 256;
  // Cycles before the first byte of one GM read arrives (L2 lookup, NoC and
  // a DRAM row miss). A pipe's GM requests are blocking, one chunk of at
  // most gm_chunk bytes at a time, so every chunk pays it once.
  double gm_latency_cycles = 0;
  // The same for a read the L2 holds, or one that stays on chip (a stream
  // queue of layer-pipelined dataflow): the lookup and the NoC hops, no DRAM.
  double gm_hit_latency_cycles = 0;
  Bytes gm_chunk = 64 * 1024;

  // Chip-level memory bandwidth per tier, bytes per second.
  double hbm_Bps = 0;
  double ddr_Bps = 0;
  double sram_Bps = 0;
  Bytes hbm_capacity = 0, ddr_capacity = 0, sram_capacity = 0;
  // An L2 cache (not a tier): on-chip space stream queues may be carved from.
  Bytes l2_capacity = 0;
  // Whether reads of the DDR tier pass through (and fill) the L2 cache. On a
  // chip whose DDR hangs off its own NoC port (host DDR over PCIe), every
  // read of a DDR byte goes to DDR again, however small the operand.
  bool l2_caches_ddr = false;

  double cube_macs_per_cycle(DType t) const {
    auto it = cube_shape.find(t);
    if (it == cube_shape.end()) return 0;
    return static_cast<double>(it->second[0]) * it->second[1] * it->second[2];
  }
  double peak_flops(DType t) const { return 2.0 * cube_macs_per_cycle(t) * cube_cores * core_clock_hz; }
};

}  // namespace npusim::mapper
