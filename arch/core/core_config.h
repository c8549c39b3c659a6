#pragma once
// Resolved configuration of one Ascend-style AI core (the `core` YAML
// section). Built once by resolve_core_config
// (sim/config/core_resolver.cpp) before elaboration and handed
// to the core modules as const; nothing below this header reads YAML.
#include <array>
#include <cstdint>
#include <map>
#include <string>

#include "arch/isa.h"
#include "common/dtype.h"
#include "common/units.h"

namespace npusim::arch {

// split: A2/A3 (910B/910C) — a core group is 1 AIC (cube side) + N AIV
// (vector side) exchanging data through GM. coupled: 910/310P — one core
// holds cube and vector pipes, sharing L1/UB, with an L0C->UB path.
enum class CoreStyle { split, coupled };

// The fractal one cube step consumes: an m0 x k0 by k0 x n0 multiply.
struct CubeShape {
  std::uint32_t m0 = 16, k0 = 16, n0 = 16;
  std::uint64_t macs_per_cycle() const { return std::uint64_t{m0} * k0 * n0; }
};

struct SparseCubeConfig {
  bool supported = false;
  double gain_2_4 = 2.0;  // dense steps / sparse steps for a 2:4 L0B operand
  double gain_4_8 = 2.0;
};

struct VectorUnitConfig {
  Bytes width = 256;  // bytes one repeat covers
  // Cycles per repeat by "kind.dtype", then "kind", then "default".
  std::map<std::string, double> cycles_per_repeat;
  // Dequantize and decompress are priced by output elements, not repeats:
  // their cost comes from table lookups and scale multiplies, not the SIMD width.
  double dequantize_elements_per_cycle = 64;
  double decompress_elements_per_cycle = 64;
};

// Per-core path rates in bytes per core cycle.
struct CorePathRates {
  double mte2_gm_Bpc = 32;     // GM -> L1/UB
  double l1_to_l0a_Bpc = 512;
  double l1_to_l0b_Bpc = 256;
  double l1_to_bias_table_Bpc = 256;
  double l0c_to_ub_Bpc = 256;  // coupled cores only
  double fixpipe_out_Bpc = 64; // L0C -> GM or L1
  double mte3_Bpc = 40;        // UB -> GM
};

struct CoreConfig {
  CoreStyle style = CoreStyle::split;
  std::uint32_t cube_cores = 24;
  std::uint32_t vector_cores_per_cube = 2;  // 0 for coupled
  Clock clock{1.8e9};
  std::array<Bytes, kBufferCount> buffer_bytes{};  // indexed by Buffer; gm is unbounded (0)
  std::map<DType, CubeShape> cube_shapes;          // precision absent => unsupported
  Cycles cube_fill_drain_cycles = 32;
  SparseCubeConfig sparse;
  VectorUnitConfig vector;
  CorePathRates paths;
  Cycles scalar_issue_cycles = 1;
  std::uint32_t event_ids = 8;  // per src->dst pipe pair, and per cross-core pair
  Bytes transfer_chunk = 64 * KiB;  // GM transfers are split into chunks of at most this

  Bytes capacity(Buffer b) const { return buffer_bytes[static_cast<int>(b)]; }
  const CubeShape* cube_shape(DType t) const {
    auto it = cube_shapes.find(t);
    return it == cube_shapes.end() ? nullptr : &it->second;
  }
  std::uint32_t cores_per_group() const { return style == CoreStyle::split ? 1 + vector_cores_per_cube : 1; }
};

inline const char* core_style_name(CoreStyle style) { return style == CoreStyle::split ? "split" : "coupled"; }

}  // namespace npusim::arch
