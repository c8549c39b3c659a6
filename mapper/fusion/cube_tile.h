#pragma once
// One small product of operands already in L1, for the fused lowerings:
// MTE1 cuts A and B into chunks that fit one of two L0A/L0B slots, the cube
// accumulates each column chunk into its own stretch of L0C. Flags follow
// emit_gemm: the caller raises two cube->mte1 "L0 free" tokens
// (kL0FreeEvent) before the first tile and consumes them after the last.
#include <cstdint>
#include <vector>

#include "arch/isa.h"
#include "mapper/machine_view.h"

namespace npusim::mapper {

inline constexpr std::uint8_t kL0ReadyEvent = 0;  // mte1 -> cube
inline constexpr std::uint8_t kL0FreeEvent = 0;   // cube -> mte1

struct CubeTile {
  std::uint32_t m = 0, k = 0, n = 0;
  DType a_dtype = DType::fp16;  // L0A operand, also the cube mode
  DType b_dtype = DType::fp16;  // L0B operand
  double b_l1_bytes = 2;        // bytes per B element as stored in L1
  std::uint32_t a_l1 = 0;       // A: m x k from here
  std::uint32_t b_l1 = 0;       // B: k x n from here
  std::uint32_t l0c = 0;        // m x n fp32/int32 accumulators from here
  bool accumulate = false;      // add to what L0C holds (a later K panel)
};

// Chunk depth and width: the largest multiples of 16 (or the whole extent)
// whose A and B chunks fit half of L0A and L0B.
struct CubeChunks {
  std::uint32_t k0 = 0, n0 = 0;
};
CubeChunks cube_chunks(const CubeTile& tile, const MachineView& machine);

// Bytes of L0C the tile's accumulators take.
Bytes cube_tile_l0c_bytes(std::uint32_t m, std::uint32_t n);

// Appends MTE1 and cube instructions; `l0_turn` rotates the two L0 slots
// across calls. Unless `accumulate`, the cube's first mmad of each column
// chunk overwrites L0C.
void emit_cube_tile(const CubeTile& tile, const MachineView& machine, std::uint64_t& l0_turn, std::uint32_t tag,
                    std::vector<arch::Instruction>& code);

}  // namespace npusim::mapper
