#pragma once
// Cube timing, pure C++. An M x K x N mmad runs one fractal step per cycle:
// ceil(M/m0) * ceil(K/k0) * ceil(N/n0) steps for the precision's shape, so a
// ragged edge costs a whole fractal. On a cube with structured-sparsity
// support a 2:4 or 4:8 L0B operand takes ceil(steps / gain). A cube without
// that support runs the instruction at the dense rate: the operand reaches
// it decompressed, and the decompress cost belongs to whoever expanded it.
// Fill and drain of the systolic pipeline are charged once per mmad
// instruction: the mapper issues one mmad per L0 tile, and charging every
// instruction keeps the cost independent of what ran before it.
#include <cstdint>

#include "arch/core/core_config.h"
#include "arch/isa.h"

namespace npusim::arch {

std::uint64_t cube_dense_steps(const CubeShape& shape, std::uint64_t m, std::uint64_t k, std::uint64_t n);

// Speed-up the cube gets from the operand's sparsity: 1.0 for dense or when
// the cube has no sparse support.
double cube_sparsity_gain(const SparseCubeConfig& sparse, CubeSparsity sparsity);

// Cycles of one mmad; the precision must be in config.cube_shapes (the
// program check guarantees it; otherwise SimulationError).
Cycles cube_cycles(const CoreConfig& config, std::uint64_t m, std::uint64_t k, std::uint64_t n, DType dtype,
                   CubeSparsity sparsity);

// Bytes of the L0B operand: K x N elements, or on a sparse cube the kept
// elements plus their in-group index (2 bits per kept value for 2:4, 3 for 4:8).
Bytes cube_l0b_bytes(const CoreConfig& config, std::uint64_t k, std::uint64_t n, DType dtype,
                     CubeSparsity sparsity);

// Bytes of the L0C accumulator tile: M x N 32-bit accumulators (fp32 or int32).
inline Bytes cube_l0c_bytes(std::uint64_t m, std::uint64_t n) { return m * n * 4; }

const char* sparsity_name(CubeSparsity sparsity);

}  // namespace npusim::arch
