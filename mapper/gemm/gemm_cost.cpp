#include "mapper/gemm/gemm_cost.h"

#include <algorithm>
#include <cmath>

#include "arch/address_map.h"
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

// MTE2 cycles for one load instruction. The pipe sends one blocking request
// per chunk, which takes the longer of its path time and the time its data
// needs to be ready (the NoC streams data as it comes, so latency hides under
// a long path time). A request the L2 holds is ready after the L2's latency.
// One that misses waits for DRAM's latency plus its bytes at the HBM rate
// that core's misses get: HBM's rate split among the active cores that miss
// at once (Little's law: few, small requests in flight cannot fill HBM).
// The first read of a panel misses and the later ones hit,
// so a `miss_fraction` of requests pay the miss time and the rest the hit
// time; averaging the times, not the fraction, keeps a core that streams
// misses and then hits from looking evenly HBM-bound.
double load_cycles(double bytes, const MachineView& m, double hbm_share_Bpc, double miss_fraction) {
  if (bytes <= 0) return 0;
  const double chunk = static_cast<double>(std::max<Bytes>(1, m.gm_chunk));
  const double chunks = std::ceil(bytes / chunk);
  const double each = bytes / chunks;
  const double path = each / m.gm_read_Bpc;
  const double hit = std::max(path, m.gm_hit_latency_cycles);
  const double miss =
      std::max(path, hbm_share_Bpc > 0 ? m.gm_latency_cycles + each / hbm_share_Bpc : m.gm_latency_cycles);
  return chunks * (miss_fraction * miss + (1.0 - miss_fraction) * hit);
}

// The per-core and chip-level terms both the estimate and the lower bound
// are built from, so the bound can never exceed the estimate.
struct Terms {
  double rounds = 0;          // output blocks on the busiest core
  double block_cube = 0;      // cube cycles of one full block, fill and drain included
  double block_load = 0;      // MTE2 cycles of one block's streamed panels
  double block_store = 0;     // FixPipe cycles of one block
  double l0_moves = 0;        // MTE1 cycles of one block
  double strips = 0;          // A strip refills on the busiest core (a-resident)
  double strip_load = 0;      // MTE2 cycles of one strip
  double memory_seconds = 0;  // unique bytes at peak HBM rate
  double gm_bytes = 0;
  double hbm_share_Bpc = 0;   // HBM rate left for one core's misses
  double a_miss = 1, b_miss = 1;  // share of each operand's reads that miss L2
};

Terms terms(const GemmProblem& p, const GemmTiling& t, const MachineView& machine) {
  const auto& shape = machine.cube_shape.at(p.a_dtype);
  const std::uint64_t m_blocks = ceil_div(p.m, t.bm);
  const std::uint64_t n_blocks = ceil_div(p.n, t.bn);
  const std::uint64_t blocks = p.batch * m_blocks * n_blocks;
  const std::uint64_t cores = static_cast<std::uint64_t>(machine.cube_cores);
  const double a_bytes = element_bytes(p.a_dtype);
  const double b_bytes = stored_b_bytes_per_element(p);
  const double c_bytes = element_bytes(p.c_dtype);
  const double k_tiles = static_cast<double>(ceil_div(p.k, t.bk0));
  const double k_panels = static_cast<double>(ceil_div(p.k, t.bk1));
  const double panel_k = static_cast<double>(std::min<std::uint64_t>(t.bk1, p.k));
  // A block never has more rows than the problem (a GEMV's m = 1 block
  // moves one row of A, though it pads to the cube's m0 in L0).
  const double rows = static_cast<double>(std::min<std::uint64_t>(t.bm, p.m));
  const double cols = static_cast<double>(std::min<std::uint64_t>(t.bn, p.n));

  Terms x;
  x.rounds = static_cast<double>(ceil_div(blocks, cores));
  const double shared = static_cast<double>(std::max<std::uint64_t>(1, p.b_shared_by));
  const double batch = static_cast<double>(p.batch);
  const double a_loads = t.a_resident ? 1.0 : static_cast<double>(n_blocks);
  x.gm_bytes = batch * (static_cast<double>(p.m) * p.k * a_bytes * a_loads +
                        static_cast<double>(p.k) * p.n * b_bytes * m_blocks / shared + static_cast<double>(p.m) * p.n * c_bytes);
  // Unique bytes must come from HBM at least once; repeats may hit L2. A
  // write-back L2 absorbs an output that fits in half of it (the next op
  // reads it from there), so its bytes reach HBM only when it does not.
  const double c_total = batch * static_cast<double>(p.m) * p.n * c_bytes;
  const bool c_stays_on_chip = c_total <= 0.5 * static_cast<double>(machine.l2_capacity);
  const double b_total = batch / shared * p.k * p.n * b_bytes;
  const double unique = batch * static_cast<double>(p.m) * p.k * a_bytes + (c_stays_on_chip ? 0.0 : c_total) + b_total;
  const double memory_Bps = machine.hbm_Bps > 0 ? machine.hbm_Bps : machine.ddr_Bps;
  x.memory_seconds = memory_Bps > 0 ? unique / memory_Bps : 0;
  // A weight placed in DDR (a cold expert) streams at DDR's rate, and each
  // row block of A re-reads it from there when it is too big for L2 to keep.
  if (arch::tier_of(p.b_address) == arch::Tier::ddr && machine.ddr_Bps > 0 && memory_Bps != machine.ddr_Bps) {
    const bool b_stays_in_l2 = b_total <= 0.5 * static_cast<double>(machine.l2_capacity);
    const double b_reads = b_total * (b_stays_in_l2 ? 1.0 : static_cast<double>(m_blocks));
    x.memory_seconds = (unique - b_total) / memory_Bps + b_reads / machine.ddr_Bps;
  }
  // Only the unique fraction of what cores read misses L2 and queues at HBM.
  if (memory_Bps > 0 && x.gm_bytes > 0) {
    const double active = static_cast<double>(std::min(blocks, cores));
    const double miss_fraction = std::min(1.0, unique / x.gm_bytes);
    x.hbm_share_Bpc = memory_Bps / machine.core_clock_hz / (active * miss_fraction);
  }
  // Every read of an operand after its first may hit L2: A is read once per
  // block column it meets, B once per block row of every item sharing it.
  x.a_miss = 1.0 / a_loads;
  x.b_miss = 1.0 / (static_cast<double>(m_blocks) * shared);
  x.block_cube = cube_steps(t.bm, t.bk0, t.bn, shape) * k_tiles / sparse_gain(p, machine) +
                 machine.cube_fill_drain_cycles * k_tiles;
  const double a_panel =
      t.a_resident ? 0.0 : load_cycles(panel_k * rows * a_bytes, machine, x.hbm_share_Bpc, x.a_miss);
  x.block_load = k_panels * (a_panel + load_cycles(panel_k * cols * b_bytes, machine, x.hbm_share_Bpc, x.b_miss));
  x.block_store = rows * cols * c_bytes / machine.gm_write_Bpc;
  x.l0_moves = static_cast<double>(p.k) *
               (t.bm * a_bytes / machine.l1_to_l0a_Bpc + t.bn * element_bytes(p.b_dtype) / machine.l1_to_l0b_Bpc);
  if (t.a_resident) {
    // One load per panel.
    x.strip_load = k_panels * load_cycles(rows * panel_k * a_bytes, machine, x.hbm_share_Bpc, x.a_miss);
    // A contiguous run of `rounds` blocks crosses at most this many strips.
    x.strips = std::ceil(x.rounds / static_cast<double>(n_blocks)) + 1.0;
  }
  return x;
}

}  // namespace

GemmCost estimate_gemm(const GemmProblem& p, const GemmTiling& t, const MachineView& machine) {
  const Terms x = terms(p, t, machine);
  const double a_bytes = element_bytes(p.a_dtype);
  const double panel_k = static_cast<double>(std::min<std::uint64_t>(t.bk1, p.k));
  GemmCost cost;
  cost.cube_cycles_per_core = x.rounds * x.block_cube;
  cost.load_cycles_per_core = x.rounds * x.block_load + x.strips * x.strip_load;
  cost.gm_bytes = x.gm_bytes;
  const double steady = std::max({x.block_cube, x.block_load, x.l0_moves});
  // Not hidden: the first panel's load before the cube can start, and the
  // last block's store after it ends. A strip refill rides along with its
  // first block's B panels (emit_gemm), so only what that block's loads
  // take beyond the steady period shows.
  const double first_load =
      t.a_resident ? 0.0
                   : load_cycles(panel_k * std::min<std::uint64_t>(t.bm, p.m) * a_bytes, machine, x.hbm_share_Bpc,
                                 x.a_miss);
  const double first_b = x.block_load / std::max(1.0, static_cast<double>(ceil_div(p.k, t.bk1)));
  const double strip_exposed = x.strips * std::max(0.0, x.block_load + x.strip_load - steady);
  const double core_cycles = x.rounds * steady + first_load + first_b + strip_exposed +
                             x.block_store * (t.l0c_double_buffer ? 1.0 : x.rounds);
  const double core_seconds = core_cycles / machine.core_clock_hz;
  cost.core_seconds = core_seconds;
  cost.seconds = std::max(core_seconds, x.memory_seconds);
  if (x.memory_seconds >= core_seconds) {
    cost.bound = "hbm";
  } else if (steady == x.block_cube) {
    cost.bound = "cube";
  } else {
    // Loads bound the core; they are HBM's when its share, not the core's
    // own path, is what they wait for.
    cost.bound = x.hbm_share_Bpc > 0 && x.hbm_share_Bpc < machine.gm_read_Bpc ? "hbm" : "mte2";
  }
  return cost;
}

bool ranks_before(const GemmCost& a, const GemmCost& b) {
  if (a.seconds != b.seconds) return a.seconds < b.seconds;
  return a.core_seconds < b.core_seconds;
}

double gemm_lower_bound_seconds(const GemmProblem& p, const GemmTiling& t, const MachineView& machine) {
  // The busiest core's cube work with nothing exposed, its MTE2 streaming
  // of B with nothing exposed, and the unique bytes at full HBM rate: the
  // estimate adds stalls on top of each, so it is never below this.
  const Terms x = terms(p, t, machine);
  const double core = x.rounds * std::max(x.block_cube, x.block_load);
  return std::max(core / machine.core_clock_hz, x.memory_seconds);
}

}  // namespace npusim::mapper
