#include "arch/core/cube_timing.h"

#include <cmath>

#include <fmt/format.h>

#include "common/error.h"

namespace npusim::arch {

std::uint64_t cube_dense_steps(const CubeShape& shape, std::uint64_t m, std::uint64_t k, std::uint64_t n) {
  return ceil_div(m, shape.m0) * ceil_div(k, shape.k0) * ceil_div(n, shape.n0);
}

double cube_sparsity_gain(const SparseCubeConfig& sparse, CubeSparsity sparsity) {
  if (!sparse.supported) return 1.0;
  switch (sparsity) {
    case CubeSparsity::dense: return 1.0;
    case CubeSparsity::sparse_2_4: return sparse.gain_2_4;
    case CubeSparsity::sparse_4_8: return sparse.gain_4_8;
  }
  return 1.0;
}

Cycles cube_cycles(const CoreConfig& config, std::uint64_t m, std::uint64_t k, std::uint64_t n, DType dtype,
                   CubeSparsity sparsity) {
  const CubeShape* shape = config.cube_shape(dtype);
  if (!shape) throw SimulationError(fmt::format("the cube has no {} mode", dtype_name(dtype)));
  const double steps = static_cast<double>(cube_dense_steps(*shape, m, k, n));
  const double gain = cube_sparsity_gain(config.sparse, sparsity);
  return static_cast<Cycles>(std::ceil(steps / gain - 1e-9)) + config.cube_fill_drain_cycles;
}

Bytes cube_l0b_bytes(const CoreConfig& config, std::uint64_t k, std::uint64_t n, DType dtype,
                     CubeSparsity sparsity) {
  const double elements = static_cast<double>(k * n);
  const double bits = dtype_bits(dtype);
  if (!config.sparse.supported || sparsity == CubeSparsity::dense) {
    return static_cast<Bytes>(std::ceil(elements * bits / 8.0));
  }
  const double index_bits = sparsity == CubeSparsity::sparse_2_4 ? 2.0 : 3.0;
  const double kept = elements / 2.0;  // both patterns keep half
  return static_cast<Bytes>(std::ceil(kept * (bits + index_bits) / 8.0));
}

const char* sparsity_name(CubeSparsity sparsity) {
  switch (sparsity) {
    case CubeSparsity::dense: return "dense";
    case CubeSparsity::sparse_2_4: return "2:4";
    case CubeSparsity::sparse_4_8: return "4:8";
  }
  return "?";
}

}  // namespace npusim::arch
