#include "mapper/gemm/gemm_cost.h"

#include <algorithm>
#include <cmath>

#include "arch/address_map.h"
#include "common/error.h"
#include "mapper/gemm/gemm_expansion.h"

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
  double block_expand = 0;    // the AIVs' cycles to expand one block's B panels (gemm_expansion.h)
  double expand_fill = 0;     // one expanded panel's round trip, AIV load to the AIC's L1
  double strips = 0;          // A strip refills on the busiest core (a-resident)
  double strip_load = 0;      // MTE2 cycles of one strip
  double memory_seconds = 0;  // unique bytes at peak HBM rate
  double gm_bytes = 0;
  double hbm_share_Bpc = 0;   // HBM rate left for one core's misses
  double b_share_Bpc = 0;     // the same for B's tier
  double a_miss = 1, b_miss = 1;  // share of each operand's reads that miss L2
};

Terms terms(const GemmProblem& p, const GemmTiling& t, const MachineView& machine) {
  const auto& shape = machine.cube_shape.at(p.a_dtype);
  const std::uint64_t m_blocks = ceil_div(p.m, t.bm);
  const std::uint64_t n_blocks = ceil_div(p.n, t.bn);
  // With split-K every block is `parts` work items of a part of K each.
  const std::uint64_t parts = std::max<std::uint32_t>(1, t.split_k);
  const std::uint64_t blocks = p.batch * m_blocks * n_blocks * parts;
  const std::uint64_t cores = static_cast<std::uint64_t>(machine.cube_cores);
  const double a_bytes = element_bytes(p.a_dtype);
  // B as the AIC loads it, and as memory holds it: dense and stored when the
  // AIVs expand it through the workspace (gemm_expansion.h), which they
  // read as stored and the AIC reads back from L2.
  const double b_bytes = l1_b_bytes_per_element(p);
  const double b_stored_bytes = stored_b_bytes_per_element(p);
  const double c_bytes = element_bytes(p.c_dtype);
  const std::uint64_t part_k = std::min<std::uint64_t>(p.k, gemm_panels_per_part(p, t) * t.bk1);
  const double k_tiles = static_cast<double>(ceil_div(part_k, t.bk0));
  const double k_panels = static_cast<double>(gemm_panels_per_part(p, t));
  const double panel_k = static_cast<double>(std::min<std::uint64_t>(t.bk1, p.k));
  // A block never has more rows than the problem (a GEMV's m = 1 block
  // moves one row of A, though it pads to the cube's m0 in L0).
  const double rows = static_cast<double>(std::min<std::uint64_t>(t.bm, p.m));
  const double cols = static_cast<double>(std::min<std::uint64_t>(t.bn, p.n));

  Terms x;
  // B-resident cores take whole strips (block columns), m_blocks each.
  x.rounds = t.b_resident ? static_cast<double>(ceil_div(blocks / m_blocks, cores) * m_blocks)
                          : static_cast<double>(ceil_div(blocks, cores));
  const double shared = static_cast<double>(std::max<std::uint64_t>(1, p.b_shared_by));
  const double batch = static_cast<double>(p.batch);
  const double a_loads = t.a_resident ? 1.0 : static_cast<double>(n_blocks);
  // How many times the tiling fetches each B element from GM: once per
  // block row, or once with B resident.
  const double b_loads = t.b_resident ? 1.0 : static_cast<double>(m_blocks);
  // With split-K every part adds into the output: reads it, then writes it.
  const double c_passes = parts > 1 ? 2.0 * static_cast<double>(parts) : 1.0;
  x.gm_bytes = batch * (static_cast<double>(p.m) * p.k * a_bytes * a_loads +
                        static_cast<double>(p.k) * p.n * b_bytes * b_loads / shared +
                        static_cast<double>(p.m) * p.n * c_bytes * c_passes);
  // Unique bytes must come from HBM at least once; repeats may hit L2. A
  // write-back L2 absorbs an output that fits in half of it (the next op
  // reads it from there), so its bytes reach HBM only when it does not.
  const double c_total = batch * static_cast<double>(p.m) * p.n * c_bytes;
  const bool c_stays_on_chip = c_total <= 0.5 * static_cast<double>(machine.l2_capacity);
  const double b_total = batch / shared * p.k * p.n * b_stored_bytes;
  const double unique = batch * static_cast<double>(p.m) * p.k * a_bytes + (c_stays_on_chip ? 0.0 : c_total) + b_total;
  const double memory_Bps = machine.hbm_Bps > 0 ? machine.hbm_Bps : machine.ddr_Bps;
  x.memory_seconds = memory_Bps > 0 ? unique / memory_Bps : 0;
  const double active = static_cast<double>(std::min(blocks, cores));
  // A weight placed in DDR (a cold expert) streams at DDR's rate. Each fetch
  // the tiling makes of it reads DDR again unless the L2 caches DDR and can
  // keep it; a host DDR behind its own port is never cached.
  const bool b_in_ddr = arch::tier_of(p.b_address) == arch::Tier::ddr && machine.ddr_Bps > 0;
  const bool b_in_slow_tier = b_in_ddr && memory_Bps != machine.ddr_Bps;
  const bool b_cached = !b_in_ddr || machine.l2_caches_ddr;
  if (b_in_slow_tier) {
    const bool b_stays_in_l2 = b_cached && b_total <= 0.5 * static_cast<double>(machine.l2_capacity);
    const double b_reads = b_total * (b_stays_in_l2 ? 1.0 : b_loads);
    x.memory_seconds = (unique - b_total) / memory_Bps + b_reads / machine.ddr_Bps;
  }
  // Only the unique fraction of what cores read misses L2 and queues at HBM.
  if (memory_Bps > 0 && x.gm_bytes > 0) {
    const double miss_fraction = std::min(1.0, unique / x.gm_bytes);
    x.hbm_share_Bpc = memory_Bps / machine.core_clock_hz / (active * miss_fraction);
  }
  // Every read of an operand after its first may hit L2: A is read once per
  // block column it meets, B once per block row of every item sharing it.
  // An uncached B misses every time, and waits for its own tier's share.
  x.a_miss = 1.0 / a_loads;
  x.b_miss = p.b_expanded_by_vector() ? 0.0 : b_cached ? 1.0 / (b_loads * shared) : 1.0;
  x.b_share_Bpc = b_in_slow_tier ? machine.ddr_Bps / machine.core_clock_hz / active : x.hbm_share_Bpc;
  x.block_cube = cube_steps(t.bm, t.bk0, t.bn, shape) * k_tiles / sparse_gain(p, machine) +
                 machine.cube_fill_drain_cycles * k_tiles;
  const double a_panel = load_cycles(panel_k * rows * a_bytes, machine, x.hbm_share_Bpc, x.a_miss);
  const double b_panel = load_cycles(panel_k * cols * b_bytes, machine, x.b_share_Bpc, x.b_miss);
  x.block_load = k_panels * ((t.a_resident ? 0.0 : a_panel) + (t.b_resident ? 0.0 : b_panel));
  x.block_store = rows * cols * c_bytes / machine.gm_write_Bpc;
  if (parts > 1) {
    // The atomic add reads the block's bytes at L2 before writing them.
    const double chunks = std::ceil(rows * cols * c_bytes / static_cast<double>(std::max<Bytes>(1, machine.gm_chunk)));
    x.block_store += rows * cols * c_bytes / machine.gm_read_Bpc + chunks * machine.gm_hit_latency_cycles;
  }
  if (p.b_expanded_by_vector()) {
    // The AIC's B panels hit L2 but wait for the AIVs (gemm_expansion.h).
    // Per panel each AIV loads its share of the stored bytes (misses, the
    // AIVs together at the core's HBM share), runs the passes at the vector
    // width and stores the dense share; its UB double-buffers, so the
    // slowest step paces it. And only kExpansionSlots panels are in flight
    // between the AIVs and the AIC: a panel's whole round trip (the steps
    // one after another, then the AIC's load) is shared by that many. Without
    // this the search took small panels for free while their hand-offs set
    // the pace (Llama-2-7B decode Q.K^T at context 2048 over an int8 cache:
    // bn=48, bk1=64, estimated 5.5 us, simulated 13.8 us; with it bn=176,
    // bk1=128, estimated 6.7 us, simulated 7.8 us). Wide panels are still
    // estimated 10-20% short (w4a8 q_proj bn=176, bk1=256: 6.7 vs 7.7 us).
    const double aivs = std::max(1, expanding_vector_cores_per_cube(machine));
    const double share = panel_k * cols / aivs;
    const double core_Bpc = memory_Bps > 0 ? memory_Bps / machine.core_clock_hz / active : 0.0;
    double passes = 0;
    for (const VectorPass& pass : p.b_expand_passes) passes += std::ceil(pass.per_element - 1e-9);
    const double vector_rate = static_cast<double>(machine.vector_width_bytes) / element_bytes(p.b_dtype);
    // Two UB slots: two loads in flight share the miss latency; the dense
    // stores land in L2 (the workspace stays there).
    const double stored_share = share * b_stored_bytes;
    const double load_latency = load_cycles(stored_share, machine, core_Bpc / aivs, 1.0);
    const double load = std::max(load_latency / 2.0, core_Bpc > 0 ? stored_share * aivs / core_Bpc : 0.0);
    const double expand = share * passes / vector_rate;
    const double store = machine.gm_hit_latency_cycles + share * element_bytes(p.b_dtype) / machine.gm_write_Bpc;
    const double aic_load = load_cycles(panel_k * cols * b_bytes, machine, x.b_share_Bpc, 0.0);
    const double round_trip = load_latency + expand + store + aic_load;
    x.block_expand = k_panels * std::max({load, expand, store, round_trip / kExpansionSlots});
    x.expand_fill = round_trip;
  }
  x.l0_moves = static_cast<double>(part_k) *
               (t.bm * a_bytes / machine.l1_to_l0a_Bpc + t.bn * element_bytes(p.b_dtype) / machine.l1_to_l0b_Bpc);
  if (t.a_resident || t.b_resident) {
    // A contiguous run of `rounds` blocks crosses at most this many strips;
    // B-resident runs are whole strips.
    x.strips = t.a_resident ? std::ceil(x.rounds / static_cast<double>(n_blocks)) + 1.0
                            : x.rounds / static_cast<double>(m_blocks);
    // One load per panel. A split-K part's strips are short (bm x K/parts),
    // so a core refills several; every core runs the same schedule, so the
    // refills coincide and their misses share memory among all active
    // cores, not the average miss rate's few. (Validated against the
    // simulator on 2048x4096x512: 4 strips a core, 41 us simulated.)
    const bool refills_coincide = parts > 1 && x.strips > 2;
    const double together_Bpc = memory_Bps > 0 ? memory_Bps / machine.core_clock_hz / active : 0.0;
    x.strip_load =
        k_panels * (t.a_resident
                        ? load_cycles(panel_k * rows * a_bytes, machine,
                                      refills_coincide ? together_Bpc : x.hbm_share_Bpc, x.a_miss)
                        : load_cycles(panel_k * cols * b_bytes, machine,
                                      refills_coincide && !b_in_slow_tier ? together_Bpc : x.b_share_Bpc, x.b_miss));
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
  const double steady = std::max({x.block_cube, x.block_load, x.l0_moves, x.block_expand});
  // Not hidden: the first panel's load before the cube can start, and the
  // last block's store after it ends. A strip refill rides along with its
  // first block's B panels (emit_gemm), so only what that block's loads
  // take beyond the steady period shows.
  // With B resident, the first B panel comes before the first block's.
  const double first_load =
      t.b_resident ? x.strip_load / std::max(1.0, static_cast<double>(gemm_panels_per_part(p, t)))
      : t.a_resident
          ? 0.0
          : load_cycles(panel_k * std::min<std::uint64_t>(t.bm, p.m) * a_bytes, machine, x.hbm_share_Bpc, x.a_miss);
  // An expanded B's first panel makes the whole round trip before the AIC can load it.
  const double first_b =
      std::max(x.block_load / std::max(1.0, static_cast<double>(gemm_panels_per_part(p, t))), x.expand_fill);
  const double strip_exposed = x.strips * std::max(0.0, x.block_load + x.strip_load - steady);
  const double core_cycles = x.rounds * steady + first_load + first_b + strip_exposed +
                             x.block_store * (t.l0c_double_buffer ? 1.0 : x.rounds);
  // Split-K's output zeroing runs as a job of its own before the GEMM.
  const double zeroing = t.split_k > 1 ? estimate_vector_seconds(gemm_output_zeroing(p), machine) : 0.0;
  const double core_seconds = core_cycles / machine.core_clock_hz + zeroing;
  cost.core_seconds = core_seconds;
  cost.seconds = std::max(core_seconds, x.memory_seconds + zeroing);
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
  const double zeroing = t.split_k > 1 ? estimate_vector_seconds(gemm_output_zeroing(p), machine) : 0.0;
  return std::max(core / machine.core_clock_hz, x.memory_seconds) + zeroing;
}

}  // namespace npusim::mapper
