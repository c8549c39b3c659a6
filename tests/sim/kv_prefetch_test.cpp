// Issue #7: the KV cache's tier from the compression plan, and prefetch of
// the next layer's cache from DDR, simulated end to end on the 910B2 with
// host DDR: long-context decode with the cache in DDR is faster prefetched
// than read in place, and no faster than with the cache in HBM.
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/test_paths.h"

namespace npusim::test {
namespace {

// Llama-2-7B: 32 layers, 32 KV heads of 128; fp16; one sequence.
constexpr double kLayers = 32, kKvHeads = 32, kHeadDim = 128, kCtx = 4096, kFp16 = 2;

nlohmann::json decode_run(const std::string& extra) {
  const std::string json = scratch_dir() + "/run.json";
  const auto r = run_command(npusim_binary() + " run --quiet --hw " + source_path("configs/hw/ascend-910b2-ddr.yaml") +
                             " --model " + source_path("configs/models/llama-2-7b.yaml") +
                             " --phase decode --seq 4096 --json " + json + extra);
  EXPECT_EQ(r.exit_code, 0) << extra << "\n" << r.err;
  if (r.exit_code != 0) return nlohmann::json::object();
  std::ifstream in(json);
  return nlohmann::json::parse(in);
}

TEST(KvPrefetch, DdrCacheIsFasterPrefetchedAndNoFasterThanHbm) {
  const auto hbm = decode_run("");
  const auto ddr = decode_run(" --compression " + source_path("configs/compression/kv-ddr.yaml"));
  const auto prefetched = decode_run(" --compression " + source_path("configs/compression/kv-ddr-prefetch.yaml"));
  const double kv_bytes = 2 * kLayers * kKvHeads * kHeadDim * kCtx * kFp16;

  const double t_hbm = hbm["seconds"], t_ddr = ddr["seconds"], t_prefetched = prefetched["seconds"];
  EXPECT_LT(t_prefetched, t_ddr);
  EXPECT_GE(t_prefetched, t_hbm);
  // However well it overlaps, a step cannot beat reading the cache over the DDR path once.
  const double ddr_Bps = 32e9;  // configs/hw/ascend-910b2-ddr.yaml: PCIe 4.0 x16
  EXPECT_GE(t_prefetched, kv_bytes / ddr_Bps);

  // The plan's tier is where the cache lives, by the compression summary.
  EXPECT_EQ(ddr["counters"]["compression.kv_bytes.ddr"]["value"].get<double>(), kv_bytes);
  EXPECT_EQ(prefetched["counters"]["compression.kv_bytes.ddr"]["value"].get<double>(), kv_bytes);
  EXPECT_EQ(hbm["bytes"]["ddr"]["read"].get<double>(), 0.0);
  // Prefetched, DDR is read exactly once per cached byte (the copy), and
  // the copies land in HBM on top of what the in-place run writes there.
  EXPECT_EQ(prefetched["bytes"]["ddr"]["read"].get<double>(), kv_bytes);
  EXPECT_GE(prefetched["bytes"]["hbm"]["written"].get<double>() - ddr["bytes"]["hbm"]["written"].get<double>(),
            kv_bytes);
  // Read in place, attention also reads the step's own token from the cache's tier.
  const double new_token = 2 * kLayers * kKvHeads * kHeadDim * kFp16;
  EXPECT_EQ(ddr["bytes"]["ddr"]["read"].get<double>(), kv_bytes + new_token);
}

TEST(KvPrefetch, DdrPlanOnAMachineWithoutDdrNamesTensorAndTier) {
  const auto r = run_command(npusim_binary() + " run --quiet --hw " + source_path("configs/hw/ascend-910b2.yaml") +
                             " --model " + source_path("configs/models/llama-2-7b.yaml") +
                             " --phase decode --seq 128 --compression " +
                             source_path("configs/compression/kv-ddr-prefetch.yaml"));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("tensor 'layers.0.self_attn.k_cache"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("does not fit in tier ddr: the machine has no ddr tier"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace npusim::test
