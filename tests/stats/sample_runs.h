#pragma once
// Synthetic but self-consistent RunResults for the stats tests and for
// generating the example plots: numbers follow from a few stated inputs
// (work, traffic, clock) rather than being typed in per field.
#include <algorithm>
#include <string>
#include <tuple>
#include <utility>

#include <fmt/format.h>

#include "stats/energy/apply_energy.h"
#include "stats/energy/tech_table.h"
#include "stats/run_result.h"
#include "stats/store/results_store.h"
#include "stats/trace/chrome_trace.h"
#include "support/test_paths.h"

namespace npusim::test {

struct SampleSpec {
  std::string hw = "ascend-910b2";
  std::string model = "llama-3-8b";
  std::string phase = "decode";
  std::uint64_t batch = 8;
  std::uint64_t seq = 2048;
  std::string compression = "w8a8";
  std::string mac_dtype = "int8";
  double weight_scale = 1.0;  // multiplies weight bytes (compression)
  double clock_hz = 1.8e9;
  int layers = 2;
  // The machine: cube cores (each with two vector cores), HBM, L2.
  int cores = 24;
  double bandwidth_Bps = 1.6e12;
  int hbm_stacks = 4;
  Bytes l2_bytes = 192 * MiB;
};

inline stats::MachineEnergyInputs sample_machine(const SampleSpec& s = {}) {
  stats::MachineEnergyInputs m;
  // Per-core buffers of the 910B (hardware-facts 1.2): L1 512 KiB, L0A/B
  // 64 KiB, L0C 128 KiB, UB 192 KiB; L2 in 1 MiB banks.
  m.sram_capacity = {{"l0a", 64 * KiB}, {"l0b", 64 * KiB}, {"l0c", 128 * KiB},
                     {"l1", 512 * KiB}, {"ub", 192 * KiB}, {"l2", 1 * MiB}, {"sram", 256 * KiB}};
  m.cube_cores = s.cores;
  m.vector_cores = 2.0 * s.cores;
  m.onchip_sram_bytes = static_cast<Bytes>(s.cores) * (512 + 64 + 64 + 128 + 2 * 192) * KiB + s.l2_bytes;
  m.hbm_stacks = s.hbm_stacks;
  m.ddr_channels = 0;
  m.noc_routers = s.cores;
  return m;
}

// A small decode step of a dense transformer: per layer, four matmuls and
// two vector ops. Time per op is max(compute, memory) on a 910B2-like roof.
inline stats::RunResult make_sample_run(const SampleSpec& s = {}) {
  stats::RunResult r;
  r.npusim_version = "0.1.0";
  r.hw = s.hw;
  r.model = s.model;
  r.phase = s.phase;
  r.batch = s.batch;
  r.seq = s.seq;
  r.steps = 1;
  r.mapping = "kernel-by-kernel";
  r.mapping_reason = "decode is memory-bound";
  r.compression = s.compression;
  r.fidelity = "exact";
  r.core_clock_hz = s.clock_hz;
  const double macs_per_cycle =
      (s.mac_dtype == "int8" ? 8192.0 : (s.mac_dtype == "int4" ? 16384.0 : 4096.0)) * s.cores;
  r.peak_flops_per_s = 2 * macs_per_cycle * s.clock_hz;
  r.peak_bandwidth_Bps = s.bandwidth_Bps;

  const double hidden = 4096, ffn = 14336;
  const double elem = s.mac_dtype == "int4" ? 0.5 : (s.mac_dtype == "int8" ? 1.0 : 2.0);
  struct Mm { const char* name; double k, n; };
  const Mm mms[] = {{"qkv_proj", hidden, hidden + 2 * 1024}, {"o_proj", hidden, hidden},
                    {"gate_up", hidden, 2 * ffn}, {"down", ffn, hidden}};
  double seconds = 0, macs = 0, hbm_read = 0, vec_ops = 0;
  for (int layer = 0; layer < s.layers; ++layer) {
    for (const auto& mm : mms) {
      stats::OpResult op;
      op.name = fmt::format("layer{}.{}", layer, mm.name);
      op.kind = "MatMul";
      op.layer = layer;
      const double m_macs = static_cast<double>(s.batch) * mm.k * mm.n;
      op.flops = 2 * m_macs;
      op.bytes = mm.k * mm.n * elem * s.weight_scale + static_cast<double>(s.batch) * (mm.k + mm.n) * 2;
      op.seconds = std::max(op.flops / *r.peak_flops_per_s, op.bytes / *r.peak_bandwidth_Bps) * 1.15;
      op.bound = op.flops / op.bytes > *r.peak_flops_per_s / *r.peak_bandwidth_Bps ? "compute" : "memory";
      macs += m_macs;
      hbm_read += op.bytes;
      seconds += op.seconds;
      r.ops.push_back(op);
    }
    // Decode attention over the KV cache (GQA: 32 query heads, 8 KV heads of
    // 128, fp16 cache): fixed intensity, far below the ridge.
    for (const char* aname : {"attn_score", "attn_context"}) {
      stats::OpResult op;
      op.name = fmt::format("layer{}.{}", layer, aname);
      op.kind = "Attention";
      op.layer = layer;
      const double b = static_cast<double>(s.batch), seq = static_cast<double>(s.seq);
      op.flops = 2 * b * 32 * seq * 128;
      op.bytes = b * seq * 8 * 128 * 2;
      op.seconds = std::max(op.flops / *r.peak_flops_per_s, op.bytes / *r.peak_bandwidth_Bps) * 1.25;
      op.bound = "memory";
      vec_ops += op.flops / 2;  // softmax and scaling ride along on the vector unit
      hbm_read += op.bytes;
      seconds += op.seconds;
      r.ops.push_back(op);
    }
    for (const char* vname : {"rmsnorm", "swiglu"}) {
      stats::OpResult op;
      op.name = fmt::format("layer{}.{}", layer, vname);
      op.kind = vname == std::string("rmsnorm") ? "RMSNorm" : "SwiGLU";
      op.layer = layer;
      const double elems = static_cast<double>(s.batch) * (op.kind == "RMSNorm" ? hidden : ffn);
      op.flops = 4 * elems;
      op.bytes = 4 * elems;
      op.seconds = op.bytes / *r.peak_bandwidth_Bps * 2;
      op.bound = "memory";
      vec_ops += op.flops;
      hbm_read += op.bytes;
      seconds += op.seconds;
      r.ops.push_back(op);
    }
  }
  r.seconds = seconds;
  r.cycles = static_cast<std::uint64_t>(seconds * s.clock_hz);
  r.tokens = static_cast<double>(s.batch);
  r.tokens_per_s = *r.tokens / seconds;
  r.flops = 2 * macs + vec_ops;
  r.bytes["hbm"] = {static_cast<std::uint64_t>(hbm_read), static_cast<std::uint64_t>(hbm_read / 50)};
  r.bytes["l2"] = {static_cast<std::uint64_t>(hbm_read * 1.2), static_cast<std::uint64_t>(hbm_read / 40)};
  r.utilization = {{"cube", 2 * macs / seconds / *r.peak_flops_per_s},
                   {"vector", 0.05},
                   {"hbm_bandwidth", hbm_read / seconds / *r.peak_bandwidth_Bps}};
  r.activity.macs_by_dtype[s.mac_dtype] = macs;
  r.activity.vector_ops_by_dtype["fp16"] = vec_ops;
  r.activity.buffer_bytes = {{"l1", hbm_read}, {"l0a", hbm_read * 0.1}, {"l0b", hbm_read * 1.0},
                             {"l0c", macs / 512}, {"ub", vec_ops * 2}};
  r.activity.l2_bytes = hbm_read * 1.2;
  r.activity.noc_bytes = hbm_read * 1.2;
  r.activity.dram_bytes = {{"hbm", hbm_read * 1.02}};
  r.activity.dram_activates = {{"hbm", hbm_read / 1024}};
  r.counters["core0.cube.busy_cycles"] = {static_cast<double>(r.cycles) * 0.4, "cycles", "cycles the cube was busy"};
  r.counters["hbm.ch0.reads"] = {hbm_read / 64 / 16, "requests", "64-byte read requests on channel 0"};
  r.wall_seconds = 0.25;
  r.sim_events = 123456;
  stats::apply_energy(r, stats::load_tech_table(source_path("configs/tech/7nm.yaml")), sample_machine(s));
  return r;
}

inline std::string sample_identity(const SampleSpec& s) {
  return fmt::format(
      "hw={}\ncores={}\nclock={}\nbandwidth={}\nmodel={}\nphase={}\nbatch={}\nseq={}\ncompression={}\ndtype={}\n"
      "weights={}\nversion=0.1.0",
      s.hw, s.cores, s.clock_hz, s.bandwidth_Bps, s.model, s.phase, s.batch, s.seq, s.compression, s.mac_dtype,
      s.weight_scale);
}

// A design-space sweep in miniature: three machines (the 910B2 and 910B4 of
// hardware-facts 1.4, and a hypothetical 8-core part on the 910B4's memory),
// three compression plans, four batch sizes, stored in `db`.
inline void write_sample_sweep(const std::string& db) {
  stats::ResultStore store(db, stats::ResultStore::Mode::read_write);
  struct Hw { const char* name; int cores; double clock, bandwidth; int stacks; Bytes l2; };
  const Hw machines[] = {{"ascend-910b2", 24, 1.8e9, 1.6e12, 4, 192 * MiB},
                         {"ascend-910b4", 20, 1.5e9, 0.8e12, 2, 96 * MiB},
                         {"lite-8c", 8, 1.5e9, 0.8e12, 2, 48 * MiB}};
  for (const Hw& hw : machines) {
    for (const auto& [plan, dtype] : {std::pair<std::string, std::string>{"w16a16", "fp16"}, {"w8a8", "int8"},
                                      {"w4a8", "int4"}}) {
      for (std::uint64_t batch : {1, 8, 32, 128}) {
        SampleSpec s;
        s.hw = hw.name;
        s.cores = hw.cores;
        s.clock_hz = hw.clock;
        s.bandwidth_Bps = hw.bandwidth;
        s.hbm_stacks = hw.stacks;
        s.l2_bytes = hw.l2;
        s.compression = plan;
        s.mac_dtype = dtype;
        s.batch = batch;
        store.put(sample_identity(s), make_sample_run(s));
      }
    }
  }
}

// Two cores' pipes working through a tiled matmul loop (load, compute, store
// overlapping as double buffering allows) plus four HBM channels serving the
// loads; bandwidth sampled as a counter.
inline void write_sample_trace(const std::string& path) {
  stats::ChromeTraceWriter w(path);
  const Tick cycle = 556;  // ps at 1.8 GHz
  for (int core = 0; core < 2; ++core) {
    const std::string proc = fmt::format("core{}", core);
    const int mte2 = w.track(proc, "mte2"), mte1 = w.track(proc, "mte1"), cube = w.track(proc, "cube"),
              fix = w.track(proc, "fixpipe"), vec = w.track(proc, "vector");
    Tick t = static_cast<Tick>(core) * 300 * cycle;
    for (int tile = 0; tile < 40; ++tile) {
      const Tick load = (tile < 20 ? 900 : 400) * cycle, compute = 1100 * cycle;
      w.slice(mte2, "layer0.gate_up", t, t + load);
      w.slice(mte1, "layer0.gate_up", t + load, t + load + 200 * cycle);
      w.slice(cube, "layer0.gate_up", t + load + 200 * cycle, t + load + 200 * cycle + compute);
      w.slice(fix, "layer0.gate_up", t + load + 200 * cycle + compute, t + load + 350 * cycle + compute);
      if (tile % 8 == 7) w.slice(vec, "layer0.swiglu", t + load + compute, t + load + compute + 2500 * cycle);
      t += std::max(load, compute) + 250 * cycle;
    }
  }
  for (int ch = 0; ch < 4; ++ch) {
    const int track = w.track("hbm", fmt::format("ch{}", ch));
    for (int burst = 0; burst < 120; ++burst) {
      const Tick begin = static_cast<Tick>(burst) * 480 * cycle + static_cast<Tick>(ch) * 60 * cycle;
      const Tick busy = (burst < 60 ? 400 : 150) * cycle;
      w.slice(track, "read", begin, begin + busy);
    }
  }
  for (int i = 0; i < 100; ++i) w.counter("hbm.bandwidth_GBps", static_cast<Tick>(i) * 600 * cycle, i < 50 ? 1300.0 : 600.0);
}

}  // namespace npusim::test
