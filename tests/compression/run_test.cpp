// End to end through `npusim run --compression`: what each scheme buys on the
// modeled silicon. Llama-2-7B keeps its shapes but runs 2 of its 32 identical
// decoder layers (plus lm_head) so each run stays within seconds; speed-ups
// per layer are the model's.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>

#include "support/test_paths.h"

namespace npusim::test {
namespace {

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string write_text(const std::string& path, const std::string& text) {
  std::ofstream(path) << text;
  return path;
}

struct RunJson {
  nlohmann::json j;
  double seconds() const { return j.at("seconds").get<double>(); }
  double hbm_read() const { return j.at("bytes").at("hbm").at("read").get<double>(); }
  double counter(const std::string& name) const { return j.at("counters").at(name).at("value").get<double>(); }
  // The cube's lower bound on the matmuls: their FLOPs at the peak rate.
  double matmul_cube_bound() const {
    double flops = 0;
    for (const auto& op : j.at("ops")) {
      if (op.at("kind") == "matmul") flops += op.at("flops").get<double>();
    }
    return flops / j.at("peak_flops_per_s").get<double>();
  }
  // The decoder layers' matmuls alone: seconds, and FLOPs at the peak rate.
  // lm_head is left out: a prefill runs it on the last token only, a
  // 1 x 4096 x 32000 GEMV that is HBM-bound however the cube is fed.
  std::pair<double, double> layer_matmul_seconds_and_cube_bound() const {
    double seconds = 0, flops = 0;
    for (const auto& op : j.at("ops")) {
      if (op.at("kind") != "matmul" || op.at("name") == "lm_head") continue;
      seconds += op.at("seconds").get<double>();
      flops += op.at("flops").get<double>();
    }
    return {seconds, flops / j.at("peak_flops_per_s").get<double>()};
  }
  // Cycles the cube pipes of every AIC were busy: the compute the run did.
  double cube_busy_cycles() const {
    double cycles = 0;
    for (const auto& [name, counter] : j.at("counters").items()) {
      if (name.rfind("aic", 0) == 0 && name.size() > 17 && name.substr(name.size() - 17) == ".busy_cycles_cube") {
        cycles += counter.at("value").get<double>();
      }
    }
    return cycles;
  }
  // Seconds of the ops of one kind (attention_score, matmul, ...).
  double kind_seconds(const std::string& kind) const {
    double s = 0;
    for (const auto& op : j.at("ops")) {
      if (op.at("kind") == kind) s += op.at("seconds").get<double>();
    }
    return s;
  }
};

// scratch_dir() empties the test's directory on every call, so a test takes it once.
class CompressionRun : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = scratch_dir(); }
  std::string dir_;

  // A shipped config with some lines rewritten, written to the scratch directory.
  std::string variant(const std::string& shipped, const std::vector<std::pair<std::string, std::string>>& edits,
                      const std::string& name) {
    std::string text = read_text(source_path(shipped));
    for (const auto& [from, to] : edits) {
      const auto at = text.find(from);
      EXPECT_NE(at, std::string::npos) << from << " not in " << shipped;
      if (at != std::string::npos) text.replace(at, from.size(), to);
    }
    return write_text(dir_ + "/" + name, text);
  }

  std::string llama_2_layers() {
    return variant("configs/models/llama-2-7b.yaml", {{"num_layers: 32", "num_layers: 2"}}, "llama-2-7b-2l.yaml");
  }

  // The 910B2 config with its cube's structured sparsity on or off, a given
  // vector decompress rate and, optionally, another L2 write-back buffer;
  // the technology table stays the shipped one.
  std::string hw_910b2(bool sparse, int decompress_per_cycle = 64, const std::string& writeback_buffer = "") {
    const std::string tech = source_path("configs/tech/7nm.yaml");
    std::vector<std::pair<std::string, std::string>> edits{
        {"tech: ../tech/7nm.yaml", "tech: " + tech},
        {"supported: false", sparse ? "supported: true" : "supported: false"},
        {"width: 256 B", "width: 256 B\n    decompress_elements_per_cycle: " + std::to_string(decompress_per_cycle)}};
    if (!writeback_buffer.empty()) edits.push_back({"writeback_buffer: 256 KiB", "writeback_buffer: " + writeback_buffer});
    return variant("configs/hw/ascend-910b2.yaml", edits,
                   "hw-" + std::to_string(sparse) + "-" + std::to_string(decompress_per_cycle) + "-" +
                       (writeback_buffer.empty() ? "shipped" : "wb") + ".yaml");
  }

  RunJson run(const std::string& hw, const std::string& model, const std::string& args, const std::string& plan);
};

RunJson CompressionRun::run(const std::string& hw, const std::string& model, const std::string& args,
                        const std::string& plan) {
  const std::string json = dir_ + "/run.json";
  std::string cmd = npusim_binary() + " run --quiet --hw " + hw + " --model " + model + " " + args + " --json " + json;
  if (!plan.empty()) cmd += " --compression " + source_path("configs/compression/" + plan + ".yaml");
  const auto r = run_command(cmd);
  EXPECT_EQ(r.exit_code, 0) << cmd << "\n" << r.err;
  RunJson out;
  if (r.exit_code == 0) out.j = nlohmann::json::parse(read_text(json));
  return out;
}

TEST_F(CompressionRun, DecodeIsFasterAsWeightBytesShrink) {
  const std::string hw = source_path("configs/hw/ascend-910b2.yaml"), model = llama_2_layers();
  const std::string decode = "--phase decode --seq 128 --steps 1";
  const RunJson w16 = run(hw, model, decode, "w16a16"), w8 = run(hw, model, decode, "w8a8"),
            w4 = run(hw, model, decode, "w4a8-g128");
  ASSERT_FALSE(w16.j.is_null() || w8.j.is_null() || w4.j.is_null());
  EXPECT_LT(w4.seconds(), w8.seconds());
  EXPECT_LT(w8.seconds(), w16.seconds());
  // Memory-bound: the speed-up follows the HBM bytes moved. It may exceed
  // the byte ratio (by up to half here): narrower weights let a tiling take
  // deeper K panels into the same L1, so each core keeps more bytes in
  // flight and the GEMM gets closer to peak bandwidth. It must not fall short.
  for (const RunJson* r : {&w8, &w4}) {
    const double speedup = w16.seconds() / r->seconds(), byte_ratio = w16.hbm_read() / r->hbm_read();
    EXPECT_GT(byte_ratio, 1.9);
    EXPECT_GT(speedup, 0.85 * byte_ratio) << "speed-up " << speedup << " vs bytes " << byte_ratio;
    EXPECT_LT(speedup, 1.5 * byte_ratio) << "speed-up " << speedup << " vs bytes " << byte_ratio;
  }
  EXPECT_DOUBLE_EQ(w4.counter("compression.quantization_ratio.params"), 1.0);
  EXPECT_DOUBLE_EQ(w16.counter("compression.quantization_ratio.params"), 0.0);
  EXPECT_EQ(w4.j.at("compression"), "w4a8-g128");
}

// Issue 7: 2:4 prefill gains on a sparse cube and not on a dense one. The
// claim is about compute-bound GEMMs, so the prefill runs 2048 tokens, where
// the decoder layers' fp16 matmuls come within 1.5x of the cube bound (1.45x;
// at seq 256 they take 2.05x). What the cube does is checked on the shipped
// machine: half the steps on the sparse cube; on the dense one, where the
// AIVs expand the weight into a GM workspace and the AIC loads and multiplies
// it dense (mapper/gemm/gemm_expansion.h), the same work as fp16.
//
// Time is checked one GEMM at a time on the shipped machine
// (WeightExpansion.TwoFourOnADenseCubeRunsNoFasterThanFp16: 1.01x and 1.00x
// of fp16), and here over the whole run with the L2's write-back buffer at
// 8 MiB. On the shipped machine (256 KiB: the HBM controllers' write queues)
// the run's matmuls on the dense cube take 0.899x of fp16 (6.385 vs 7.106
// ms), and that gain is the memory system's, not the cube's: fp16's larger
// weights miss the L2 more and evict more dirty activations, whose
// write-back batches hold HBM while the GEMMs' reads wait (gate_proj 922 us
// after up_proj's 727, 679 alone; the MLP residual add 45 us against the
// attention one's 12). Batches of 8 MiB, sorted, open each DRAM row once:
// fp16 drops to 6.548 ms, 2:4 stays at 6.416 ms (0.98x).
TEST_F(CompressionRun, TwoFourPrefillGainsOnlyOnASparseCube) {
  const std::string model = llama_2_layers(), prefill = "--phase prefill --seq 2048";
  const std::string sparse_hw = hw_910b2(true), dense_hw = hw_910b2(false);
  const RunJson dense = run(dense_hw, model, prefill, "w16a16");
  const RunJson on_sparse = run(sparse_hw, model, prefill, "sparse-2-4");
  const RunJson on_dense = run(dense_hw, model, prefill, "sparse-2-4");
  ASSERT_FALSE(dense.j.is_null() || on_sparse.j.is_null() || on_dense.j.is_null());
  const double matmul_dense = dense.kind_seconds("matmul");
  // The claim is about compute-bound GEMMs; say so plainly when the lowering
  // leaves them bandwidth- or latency-bound instead. lm_head is left out: it
  // is the last token's GEMV (0.32 of 7.1 ms), HBM-bound at any length.
  const auto [layer_matmuls, layer_bound] = dense.layer_matmul_seconds_and_cube_bound();
  ASSERT_LT(layer_matmuls, 1.5 * layer_bound) << "fp16 prefill matmuls are not compute-bound in this build";
  EXPECT_LT(on_sparse.kind_seconds("matmul"), 0.8 * matmul_dense) << "the cube runs half the steps";
  EXPECT_LT(on_sparse.cube_busy_cycles(), 0.6 * dense.cube_busy_cycles()) << "half the steps, plus fill and drain";
  EXPECT_NEAR(on_dense.cube_busy_cycles(), dense.cube_busy_cycles(), 0.02 * dense.cube_busy_cycles())
      << "a dense cube multiplies the expanded weight in full";

  const std::string batched_writes = hw_910b2(false, 64, "8 MiB");
  const RunJson dense_bw = run(batched_writes, model, prefill, "w16a16");
  const RunJson on_dense_bw = run(batched_writes, model, prefill, "sparse-2-4");
  ASSERT_FALSE(dense_bw.j.is_null() || on_dense_bw.j.is_null());
  EXPECT_GE(on_dense_bw.kind_seconds("matmul"), 0.95 * dense_bw.kind_seconds("matmul"))
      << "prefill is compute-bound: bytes buy nothing";
}

// Decode is HBM-bound: 9 of 16 bits move, a gain while the AIVs expand at
// least as fast as HBM delivers (the AICs' ports together carry about twice
// HBM's rate, so the dense bytes they load do not bound it).
TEST_F(CompressionRun, UnstructuredGainsBandwidthWhileDecompressionKeepsUp) {
  const std::string model = llama_2_layers();
  const std::string fast = hw_910b2(false, 64), slow = hw_910b2(false, 2);
  const std::string decode = "--phase decode --seq 128 --steps 1";
  const RunJson dense = run(fast, model, decode, "w16a16");
  const RunJson keeps_up = run(fast, model, decode, "unstructured-50");
  const RunJson falls_behind = run(slow, model, decode, "unstructured-50");
  ASSERT_FALSE(dense.j.is_null() || keeps_up.j.is_null() || falls_behind.j.is_null());
  EXPECT_LT(keeps_up.hbm_read(), 0.7 * dense.hbm_read()) << "9 of 16 bits move";
  EXPECT_LT(keeps_up.seconds(), 0.8 * dense.seconds());
  EXPECT_GT(falls_behind.seconds(), dense.seconds()) << "2 elements/cycle/AIV expands slower than HBM delivers dense";
  EXPECT_DOUBLE_EQ(keeps_up.counter("compression.weight_density"), 0.5);
}

// Prefill: no compute gain on a dense cube. The bitmap format also stores 9
// bits per weight and expands on the AIVs like 2:4 without a sparse cube, so
// the cube does fp16's work; time is compared with 8 MiB write-back batches,
// for the reason given above TwoFourPrefillGainsOnlyOnASparseCube (0.899x of
// fp16 on the shipped machine, 0.98x with them).
TEST_F(CompressionRun, UnstructuredPrefillGainsNothingOnADenseCube) {
  const std::string model = llama_2_layers();
  const std::string prefill = "--phase prefill --seq 2048";
  const std::string shipped = hw_910b2(false, 64), batched_writes = hw_910b2(false, 64, "8 MiB");
  const RunJson dense_prefill = run(shipped, model, prefill, "w16a16");
  const RunJson sparse_prefill = run(shipped, model, prefill, "unstructured-50");
  ASSERT_FALSE(dense_prefill.j.is_null() || sparse_prefill.j.is_null());
  const auto [layer_matmuls, layer_bound] = dense_prefill.layer_matmul_seconds_and_cube_bound();
  ASSERT_LT(layer_matmuls, 1.5 * layer_bound) << "fp16 prefill matmuls are not compute-bound in this build";
  EXPECT_NEAR(sparse_prefill.cube_busy_cycles(), dense_prefill.cube_busy_cycles(),
              0.02 * dense_prefill.cube_busy_cycles());
  const RunJson dense_bw = run(batched_writes, model, prefill, "w16a16");
  const RunJson sparse_bw = run(batched_writes, model, prefill, "unstructured-50");
  ASSERT_FALSE(dense_bw.j.is_null() || sparse_bw.j.is_null());
  EXPECT_GE(sparse_bw.kind_seconds("matmul"), 0.95 * dense_bw.kind_seconds("matmul"));
}

// TEAL-style activation sparsity: decode skips the weight rows of zero
// activations, so a memory-bound step moves half the decoder layers' weight
// bytes; a 256-token prefill has almost no channel zero in every row and
// gains nothing.
TEST_F(CompressionRun, ActivationSparsityHalvesDecodeWeightBytesAndBuysNothingInPrefill) {
  const std::string hw = source_path("configs/hw/ascend-910b2.yaml"), model = llama_2_layers();
  const std::string decode = "--phase decode --seq 128 --steps 1";
  const RunJson dense = run(hw, model, decode, "w16a16"), sparse = run(hw, model, decode, "activation-sparse-50");
  ASSERT_FALSE(dense.j.is_null() || sparse.j.is_null());
  // Two Llama-2-7B layers: 4 x 4096^2 attention and 3 x 4096 x 11008 MLP
  // weights each, fp16; the plan skips half their rows (lm_head is dense).
  const double layer_weight_bytes = 2 * (4.0 * 4096 * 4096 + 3.0 * 4096 * 11008) * 2;
  EXPECT_NEAR(dense.hbm_read() - sparse.hbm_read(), 0.5 * layer_weight_bytes, 0.01 * layer_weight_bytes);
  const double speedup = dense.seconds() / sparse.seconds(), byte_ratio = dense.hbm_read() / sparse.hbm_read();
  EXPECT_GT(speedup, 0.85 * byte_ratio) << "speed-up " << speedup << " vs bytes " << byte_ratio;
  EXPECT_LT(speedup, 1.15 * byte_ratio) << "speed-up " << speedup << " vs bytes " << byte_ratio;
  // The cube runs half of every decoder-layer GEMV; lm_head (4096 x 32000)
  // and attention keep theirs.
  EXPECT_NEAR(dense.j.at("flops").get<double>() - sparse.j.at("flops").get<double>(), 0.5 * layer_weight_bytes,
              1e-6 * layer_weight_bytes)
      << "2 FLOPs per MAC, one MAC per fp16 weight (2 bytes) of a GEMV";

  const std::string prefill = "--phase prefill --seq 256";
  const RunJson dense_prefill = run(hw, model, prefill, "w16a16");
  const RunJson sparse_prefill = run(hw, model, prefill, "activation-sparse-50");
  ASSERT_FALSE(dense_prefill.j.is_null() || sparse_prefill.j.is_null());
  EXPECT_NEAR(sparse_prefill.hbm_read() / dense_prefill.hbm_read(), 1.0, 0.01);
  EXPECT_GE(sparse_prefill.seconds(), 0.99 * dense_prefill.seconds()) << "no row of B can be skipped";
}

TEST_F(CompressionRun, KvInt8HalvesKvBytesAndSpeedsLongContextAttention) {
  const std::string hw = source_path("configs/hw/ascend-910b2.yaml"), model = llama_2_layers();
  const std::string decode = "--phase decode --batch 4 --seq 4096 --steps 1";
  const RunJson fp16 = run(hw, model, decode, "w16a16");
  const RunJson int8 = run(hw, model, decode, "kv-int8");
  ASSERT_FALSE(fp16.j.is_null() || int8.j.is_null());
  // 4096 tokens = 256 whole pages: no fragmentation; 8 + 16/128 bits per element vs 16.
  EXPECT_NEAR(int8.counter("compression.kv_bytes.hbm") / fp16.counter("compression.kv_bytes.hbm"), 8.125 / 16, 1e-9);
  const double attention16 = fp16.kind_seconds("attention_score") + fp16.kind_seconds("attention_context");
  const double attention8 = int8.kind_seconds("attention_score") + int8.kind_seconds("attention_context");
  ASSERT_GT(attention16, 0);
  EXPECT_LT(attention8, 0.75 * attention16) << "attention streams half the KV bytes";
}

TEST_F(CompressionRun, PlanNamingNoLayerIsBadInput) {
  const std::string plan = write_text(dir_ + "/bad.yaml",
                                      "name: bad\nrules:\n  - match: \"layers.*.mlp.down_proj\"\n    weights: int8\n"
                                      "  - match: \"decoder.*.fc1\"\n    weights: int4\n");
  const auto r = run_command(npusim_binary() + " run --quiet --hw " + source_path("configs/hw/ascend-910b2.yaml") +
                             " --model " + llama_2_layers() + " --phase decode --seq 16 --compression " + plan);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("bad.yaml:5: rules[1]: rule [decoder.*.fc1] matches no matmul"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace npusim::test

namespace npusim::test {
namespace {

// Weight bytes by tier come from where placement put the tensors: with the
// cold three quarters of Mixtral's experts in DDR, the w8a8 weights split
// between HBM and DDR and add up to the plan's total.
TEST(CompressionTiers, WeightBytesFollowThePlacementNotThePolicyTier) {
  const std::string dir = scratch_dir();
  const auto r = run_command(npusim_binary() + " run --quiet --hw " + source_path("configs/hw/ascend-910b2-ddr.yaml") +
                             " --model " + source_path("configs/models/mixtral-8x7b.yaml") +
                             " --phase decode --seq 128 --mapper " + source_path("configs/mapper/moe-experts-ddr.yaml") +
                             " --compression " + source_path("configs/compression/w8a8.yaml") + " --json " + dir +
                             "/run.json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(read_text(dir + "/run.json"));
  const auto counter = [&](const std::string& name) { return j.at("counters").at(name).at("value").get<double>(); };
  const double hbm = counter("compression.weight_bytes.hbm"), ddr = counter("compression.weight_bytes.ddr");
  // 32 layers x 8 experts x 3 matrices of 4096 x 14336 int8, of which 6 of 8 are cold.
  const double experts = 32.0 * 8 * 3 * 4096 * 14336;
  EXPECT_GE(ddr, 0.75 * experts);
  EXPECT_LT(hbm, 64.0 * (1ull << 30));
  EXPECT_GT(hbm, 0.25 * experts);
}

}  // namespace
}  // namespace npusim::test
