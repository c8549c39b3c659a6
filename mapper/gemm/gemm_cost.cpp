#include "mapper/gemm/gemm_cost.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include <fmt/format.h>

#include "common/error.h"

namespace npusim::mapper {
namespace {

double sparse_gain(const GemmProblem& p, const MachineView& m) {
  if (p.sparsity == arch::CubeSparsity::dense || !m.sparse_cube) return 1.0;
  return m.sparse_gain;
}

// Cube steps for an m x k x n product in fractals of the cube's shape.
double cube_steps(std::uint64_t m, std::uint64_t k, std::uint64_t n, const std::array<std::uint32_t, 3>& s) {
  return static_cast<double>(ceil_div(m, s[0]) * ceil_div(k, s[1]) * ceil_div(n, s[2]));
}

}  // namespace

GemmCost estimate_gemm(const GemmProblem& p, const GemmTiling& t, const MachineView& machine) {
  const auto& shape = machine.cube_shape.at(p.a_dtype);
  const std::uint64_t m_blocks = ceil_div(p.m, t.bm);
  const std::uint64_t n_blocks = ceil_div(p.n, t.bn);
  const std::uint64_t blocks = p.batch * m_blocks * n_blocks;
  const std::uint64_t cores = static_cast<std::uint64_t>(machine.cube_cores);
  const double rounds = static_cast<double>(ceil_div(blocks, cores));

  const double a_bytes = element_bytes(p.a_dtype);
  const double b_bytes = stored_b_bytes_per_element(p);
  const double c_bytes = element_bytes(p.c_dtype);
  const std::uint64_t k_tiles = ceil_div(p.k, t.bk0);

  // One full-size block; edge blocks are cheaper, so this bounds from above.
  const double block_cube = cube_steps(t.bm, t.bk0, t.bn, shape) * static_cast<double>(k_tiles) / sparse_gain(p, machine) +
                            machine.cube_fill_drain_cycles * static_cast<double>(k_tiles);
  const double block_load_bytes = static_cast<double>(p.k) * (t.bm * a_bytes + t.bn * b_bytes);
  const double block_load = block_load_bytes / machine.gm_read_Bpc;
  const double block_store = t.bm * t.bn * c_bytes / machine.gm_write_Bpc;
  const double l0_moves = static_cast<double>(p.k) * (t.bm * element_bytes(p.a_dtype) / machine.l1_to_l0a_Bpc +
                                                      t.bn * element_bytes(p.b_dtype) / machine.l1_to_l0b_Bpc);

  GemmCost cost;
  cost.cube_cycles_per_core = rounds * block_cube;
  cost.load_cycles_per_core = rounds * block_load;
  const double steady = std::max({block_cube, block_load, l0_moves});
  // The first panel's load and the last block's store are not hidden.
  const double first_load = std::min<double>(t.bk1, p.k) * (t.bm * a_bytes + t.bn * b_bytes) / machine.gm_read_Bpc;
  const double core_cycles = rounds * steady + first_load + block_store * (t.l0c_double_buffer ? 1.0 : rounds);
  const double core_seconds = core_cycles / machine.core_clock_hz;

  cost.gm_bytes = static_cast<double>(p.batch) *
                  (static_cast<double>(p.m) * p.k * a_bytes * n_blocks + static_cast<double>(p.k) * p.n * b_bytes * m_blocks /
                   static_cast<double>(std::max<std::uint64_t>(1, p.b_shared_by)) +
                   static_cast<double>(p.m) * p.n * c_bytes);
  // Unique bytes must come from HBM at least once; repeats may hit L2.
  const double unique_bytes = static_cast<double>(p.batch) * (static_cast<double>(p.m) * p.k * a_bytes + static_cast<double>(p.m) * p.n * c_bytes) +
                              static_cast<double>(p.batch) / std::max<std::uint64_t>(1, p.b_shared_by) * p.k * p.n * b_bytes;
  const double memory_seconds = machine.hbm_Bps > 0 ? unique_bytes / machine.hbm_Bps : 0;

  cost.seconds = std::max(core_seconds, memory_seconds);
  if (memory_seconds >= core_seconds) {
    cost.bound = "hbm";
  } else if (steady == block_cube) {
    cost.bound = "cube";
  } else {
    cost.bound = "mte2";
  }
  return cost;
}

GemmChoice choose_gemm_tiling(const GemmProblem& p, const MachineView& machine) {
  auto it = machine.cube_shape.find(p.a_dtype);
  if (it == machine.cube_shape.end()) {
    throw InputError(fmt::format("the cube has no {} mode for a {}x{}x{} matmul", dtype_name(p.a_dtype), p.m, p.k, p.n));
  }
  const std::uint32_t m0 = it->second[0], k0 = it->second[1], n0 = it->second[2];
  auto multiples = [](std::uint32_t unit, std::uint64_t cover, std::vector<std::uint32_t> base) {
    std::vector<std::uint32_t> out;
    for (std::uint32_t v : base) {
      const std::uint32_t r = static_cast<std::uint32_t>(round_up(v, unit));
      if (std::find(out.begin(), out.end(), r) == out.end()) out.push_back(r);
      if (r >= cover) break;
    }
    return out;
  };
  // Balanced block widths spread a skinny product over every core.
  std::vector<std::uint32_t> bn_base = {16, 32, 64, 96, 128, 192, 256, 384, 512};
  for (std::uint64_t split = 1; split <= 4; ++split) {
    const std::uint64_t per_core = ceil_div(p.n, static_cast<std::uint64_t>(machine.cube_cores) * split);
    if (per_core > 0 && per_core <= 1024) bn_base.push_back(static_cast<std::uint32_t>(per_core));
  }
  std::sort(bn_base.begin(), bn_base.end());

  GemmChoice best;
  bool found = false;
  for (std::uint32_t bm : multiples(m0, p.m, {16, 32, 64, 128, 256})) {
    for (std::uint32_t bn : multiples(n0, p.n, bn_base)) {
      for (std::uint32_t bk1 : multiples(k0, p.k, {32, 64, 128, 256, 512, 1024})) {
        for (std::uint32_t bk0 : {32u, 64u, 128u, 256u}) {
          const std::uint32_t k_tile = static_cast<std::uint32_t>(round_up(bk0, k0));
          if (k_tile > bk1 || bk1 % k_tile != 0) continue;
          for (bool double_l0c : {true, false}) {
            GemmTiling t{bm, bn, bk1, k_tile, double_l0c};
            if (gemm_tiling_error(p, t, machine)) continue;
            ++best.candidates_evaluated;
            const GemmCost c = estimate_gemm(p, t, machine);
            if (!found || c.seconds < best.cost.seconds) {
              best.tiling = t;
              best.cost = c;
              found = true;
            }
          }
        }
      }
    }
  }
  if (!found) {
    throw InputError(fmt::format("no tiling of a {}x{}x{} {} matmul fits the buffers (L1 {} B, L0A {} B, L0B {} B, L0C {} B)",
                                 p.m, p.k, p.n, dtype_name(p.a_dtype), machine.l1, machine.l0a, machine.l0b, machine.l0c));
  }
  return best;
}

}  // namespace npusim::mapper
