// Fused lowerings (mapper/attention/, mapper/fusion/) against expectations
// that do not come from them: the closed-form sizes of the intermediates a
// fusion keeps out of GM, conservation of cube work, simulated speed for a
// long prefill, and the core's own buffer check on every shipped model.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "arch/core/program_plan.h"
#include "common/error.h"
#include "mapper/attention/fused_attention.h"
#include "mapper/fusion/fusion_plan.h"
#include "mapper/kernel_mapper.h"
#include "sim_harness.h"
#include "support/shipped_models.h"
#include "workloads/workload.h"

namespace npusim::test {
namespace {

using mapper::AttentionLowering;

struct Traffic {
  double read = 0, written = 0;  // GM bytes to and from tensors (outside the fusion workspace)
  double staged = 0;             // GM bytes through the workspace
  double macs = 0;
};

bool touches_gm(const arch::Instruction& in) {
  return in.op == arch::Opcode::load || in.op == arch::Opcode::store ||
         (in.op == arch::Opcode::fixpipe && in.dst == arch::Buffer::gm);
}

void add_traffic(const arch::Program& program, const mapper::Placement& placement, Traffic& t) {
  auto count = [&](const arch::CoreProgram& core) {
    for (const auto& in : core.instructions) {
      if (in.op == arch::Opcode::mmad) t.macs += double(in.m) * in.k * in.n;
      if (!touches_gm(in)) continue;
      const bool staged = placement.workspace_bytes > 0 && in.gm_address >= placement.workspace_address &&
                          in.gm_address < placement.workspace_address + placement.workspace_bytes;
      (staged ? t.staged : in.op == arch::Opcode::load ? t.read : t.written) += double(in.bytes);
    }
  };
  for (const auto& c : program.cube_cores) count(c);
  for (const auto& c : program.vector_cores) count(c);
}

mapper::MapperOptions options_with(AttentionLowering attention, bool epilogues) {
  mapper::MapperOptions o;
  o.fusion.attention = attention;
  o.fusion.epilogues = epilogues;
  o.placement.activations.has_spill = true;
  return o;
}

workloads::Workload llama(workloads::Phase phase, std::uint64_t seq) {
  workloads::WorkloadParams params;
  params.phase = phase;
  params.seq = seq;
  params.batch = 1;
  return workloads::build_workload_from_file(source_path("configs/models/llama-2-7b.yaml"), params);
}

// Traffic of the jobs of layer 0 whose names start with `prefix`.
Traffic layer_traffic(const workloads::Graph& g, const mapper::MachineView& view, const mapper::MapperOptions& o,
                      const std::string& prefix, std::vector<arch::Program>* programs = nullptr) {
  mapper::GemmTilingCache cache;
  Traffic t;
  std::vector<mapper::Job> jobs;
  const auto placement = mapper::for_each_kernel_job(g, view, cache, o, [&](mapper::Job& job) {
    if (job.name.rfind(prefix, 0) == 0) jobs.push_back(std::move(job));
  });
  for (const auto& job : jobs) {
    add_traffic(job.program, placement, t);
    if (programs) programs->push_back(job.program);
  }
  return t;
}

TEST(Fusion, FusedAttentionWritesNeitherScoresNorProbabilities) {
  for (const char* hw_file : {"configs/hw/ascend-910b2.yaml", "configs/hw/ascend-910.yaml"}) {
    SCOPED_TRACE(hw_file);
    const HwConfig hw = load_hw_config(source_path(hw_file));
    const auto view = run_machine_view(hw);
    const auto w = llama(workloads::Phase::prefill, 512);
    const auto& g = w.graphs.front();
    const std::string attn = "layers.0.self_attn.";
    // Unfused, the attention ops are the score, softmax and context jobs.
    Traffic unfused;
    for (const char* op : {"qk_matmul", "softmax", "pv_matmul"}) {
      const Traffic t = layer_traffic(g, view, options_with(AttentionLowering::unfused, false), attn + op);
      unfused.read += t.read;
      unfused.written += t.written;
      unfused.macs += t.macs;
    }
    const Traffic fused = layer_traffic(g, view, options_with(AttentionLowering::fused, false), attn + "fused_attention");
    // Llama-2-7B: 32 heads of 128, fp16; prefill of 512 attends 512 keys.
    const double heads = 32, seq = 512, keys = 512, head_dim = 128, bytes = 2;
    const double scores = heads * seq * keys * bytes;  // and as many probabilities
    EXPECT_DOUBLE_EQ(unfused.written - fused.written, 2 * scores);
    EXPECT_DOUBLE_EQ(fused.written, heads * seq * head_dim * bytes);  // only the context
    // Fused reads Q once, and query block i (of T = 4 of 128 rows) reads the
    // causally visible K and V tiles 0..i (the FlashAttention loop with
    // causal skipping): (T + 1) / 2 times K and V; unfused reads Q, K, V,
    // the scores and the probabilities at least once each.
    const double qkv = heads * seq * head_dim * bytes, t = seq / 128, triangle = t * (t + 1) / 2;
    EXPECT_DOUBLE_EQ(fused.read, qkv + 2 * (t + 1) / 2 * qkv);
    EXPECT_GE(unfused.read, 3 * qkv + 2 * scores);
    // Unfused, the cube does Q K^T and P V over the full square; fused,
    // over the T (T + 1) / 2 tiles of the T x T that the mask leaves.
    EXPECT_DOUBLE_EQ(unfused.macs, 2 * heads * seq * keys * head_dim);
    EXPECT_DOUBLE_EQ(fused.macs, unfused.macs * triangle / (t * t));
    // On split cores the tiles go through the workspace; on coupled cores
    // only the probabilities do, each computed tile written once and read once.
    EXPECT_GT(fused.staged, 0);
    if (!view.split_cores) {
      EXPECT_DOUBLE_EQ(fused.staged, 2 * scores * triangle / (t * t));
    }
  }
}

TEST(Fusion, FusedSwigluRemovesTheGateAndUpRoundTrip) {
  for (const char* hw_file : {"configs/hw/ascend-910b2.yaml", "configs/hw/ascend-910.yaml"}) {
    SCOPED_TRACE(hw_file);
    const HwConfig hw = load_hw_config(source_path(hw_file));
    const auto view = run_machine_view(hw);
    const auto w = llama(workloads::Phase::prefill, 512);
    const auto& g = w.graphs.front();
    const std::string mlp = "layers.0.mlp.";
    Traffic unfused;
    for (const char* op : {"gate_proj", "up_proj", "act_fn"}) {
      const Traffic t = layer_traffic(g, view, options_with(AttentionLowering::unfused, false), mlp + op);
      unfused.read += t.read;
      unfused.written += t.written;
      unfused.macs += t.macs;
    }
    const Traffic fused =
        layer_traffic(g, view, options_with(AttentionLowering::unfused, true), mlp + "fused_gate_up_swiglu");
    // 512 tokens x 11008 intermediate, fp16: gate and up outputs each.
    const double tokens = 512, width = 11008, hidden = 4096, bytes = 2;
    const double one_output = tokens * width * bytes;
    EXPECT_DOUBLE_EQ(unfused.written - fused.written, 2 * one_output);
    EXPECT_DOUBLE_EQ(fused.written, one_output);  // only the activation
    EXPECT_LE(fused.read, unfused.read - 2 * one_output);
    EXPECT_DOUBLE_EQ(fused.macs, 2 * tokens * hidden * width);
    EXPECT_DOUBLE_EQ(fused.macs, unfused.macs);
  }
}

double simulate(const std::vector<arch::Program>& programs, const mapper::MachineView& view) {
  scrub_l2(view);
  Tick total = 0;
  for (const auto& p : programs) {
    const auto t = machine_910b2().run(p);
    total += t.end - t.start;
  }
  return ticks_to_seconds(total);
}

TEST(Fusion, FusedAttentionIsFasterForALongPrefill) {
  const auto view = run_machine_view(hw_910b2());
  const auto w = llama(workloads::Phase::prefill, 2048);
  const auto& g = w.graphs.front();
  const std::string attn = "layers.0.self_attn.";
  std::vector<arch::Program> unfused, fused;
  for (const char* op : {"qk_matmul", "softmax", "pv_matmul"}) {
    layer_traffic(g, view, options_with(AttentionLowering::unfused, false), attn + op, &unfused);
  }
  layer_traffic(g, view, options_with(AttentionLowering::fused, false), attn + "fused_attention", &fused);
  ASSERT_EQ(unfused.size(), 3u);
  ASSERT_EQ(fused.size(), 1u);
  const double t_unfused = simulate(unfused, view), t_fused = simulate(fused, view);
  RecordProperty("unfused_us", std::to_string(t_unfused * 1e6));
  RecordProperty("fused_us", std::to_string(t_fused * 1e6));
  EXPECT_LT(t_fused, t_unfused) << "fused " << t_fused * 1e6 << " us, unfused " << t_unfused * 1e6 << " us";
  // Fused attention is cube work at a fraction of peak no higher than 1:
  // the work it executes, the 16 x 17 / 2 of 16 x 16 score tiles the causal
  // mask leaves (the full square over this time would exceed the peak).
  const double flops = 2 * 2 * 32.0 * 2048 * 2048 * 128 * (16.0 * 17 / 2) / (16 * 16);
  EXPECT_LT(flops / t_fused, view.peak_flops(DType::fp16));
}

TEST(Fusion, DecodeAttentionRunsFusedOnThe910B2) {
  const auto view = run_machine_view(hw_910b2());
  const auto w = llama(workloads::Phase::decode, 2048);
  std::vector<arch::Program> fused;
  const Traffic t = layer_traffic(w.graphs.front(), view, options_with(AttentionLowering::fused, true),
                                  "layers.0.self_attn.fused_attention", &fused);
  ASSERT_EQ(fused.size(), 1u);
  // One query per head, all 2048 + 1 keys: the cube work of both products.
  EXPECT_DOUBLE_EQ(t.macs, 2 * 32.0 * 1 * 2049 * 128);
  EXPECT_GT(simulate(fused, view), 0);  // runs to completion, no deadlock
}

TEST(Fusion, AnAttentionTileThatCannotFitNamesTheBuffer) {
  auto view = run_machine_view(hw_910b2());
  view.ub = 4096;  // not even a 16 x 16 score tile and its slots
  mapper::AttentionProblem p;
  p.score = gemm(512, 128, 512, 32);
  p.context = gemm(512, 512, 128, 32);
  try {
    mapper::choose_attention_tiling(p, view);
    FAIL() << "a tiling was chosen for a 4 KiB UB";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("UB needs"), std::string::npos) << e.what();
  }
}

// automatic fuses exactly where one layer's scores (heads x seq x keys x 2 B)
// exceed the 192 MiB L2 of the 910B2: prefill of 2048, not of 512 or decode.
TEST(Fusion, AutomaticAttentionFusesWhereTheScoresExceedL2) {
  const auto view = run_machine_view(hw_910b2());
  ASSERT_EQ(view.l2_capacity, 192ULL << 20);
  mapper::MapperOptions o;
  EXPECT_EQ(o.fusion.attention, AttentionLowering::automatic);
  for (auto [phase, seq] : {std::pair{workloads::Phase::prefill, 512}, std::pair{workloads::Phase::prefill, 2048},
                            std::pair{workloads::Phase::decode, 2048}}) {
    const double keys = phase == workloads::Phase::decode ? seq + 1 : seq;
    const double rows = phase == workloads::Phase::decode ? 1 : seq;
    const bool exceeds = 32 * rows * keys * 2 > double(view.l2_capacity);
    const auto w = llama(phase, static_cast<std::uint64_t>(seq));
    const auto plan = mapper::plan_fusions(w.graphs.front(), o.fusion, view);
    EXPECT_EQ(plan.attention.size(), exceeds ? 32u : 0u) << seq;
    EXPECT_TRUE(plan.swiglu.empty());  // epilogue fusion is off by default
  }
}

TEST(Fusion, MapperFileSelectsTheLowerings) {
  const std::string dir = scratch_dir();
  auto write = [&](const std::string& text) {
    const std::string path = dir + "/mapper.yaml";
    std::ofstream(path) << text;
    return path;
  };
  auto o = mapper::load_mapper_options(write("attention: unfused\nepilogue_fusion: off\n"));
  EXPECT_EQ(o.fusion.attention, AttentionLowering::unfused);
  EXPECT_FALSE(o.fusion.epilogues);
  o = mapper::load_mapper_options(write("attention: auto\n"));
  EXPECT_EQ(o.fusion.attention, AttentionLowering::automatic);
  o = mapper::load_mapper_options(write("attention: fused\nepilogue_fusion: on\n"));
  EXPECT_EQ(o.fusion.attention, AttentionLowering::fused);
  EXPECT_TRUE(o.fusion.epilogues);
  try {
    mapper::load_mapper_options(write("attention: flash\n"));
    FAIL() << "attention: flash accepted";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("mapper.yaml:1"), std::string::npos) << e.what();
  }
}

// Every fused job of every shipped model, prefill and decode, through the
// core's load-time check, on the split 910B2 and the coupled 910.
void check_loads(const arch::Program& program, const arch::CoreConfig& core) {
  const int group = static_cast<int>(core.cores_per_group());
  const bool split = core.style == arch::CoreStyle::split;
  for (const auto& c : program.cube_cores) {
    arch::plan_program(core, {"aic", split ? arch::CoreRole::cube : arch::CoreRole::coupled, 0, group}, c);
  }
  for (std::size_t i = 0; i < program.vector_cores.size(); ++i) {
    const int index = 1 + static_cast<int>(i % static_cast<std::size_t>(group - 1));
    arch::plan_program(core, {"aiv", arch::CoreRole::vector, index, group}, program.vector_cores[i]);
  }
}

void check_fused_model(const std::string& hw_file, const std::string& model, workloads::Phase phase) {
  const HwConfig hw = load_hw_config(source_path(hw_file));
  auto view = run_machine_view(hw);
  view.ddr_capacity = 4ULL << 40;  // capacity is placement's test; this one is about buffers
  workloads::WorkloadParams params;
  params.phase = phase;
  params.seq = phase == workloads::Phase::decode ? 2048 : 512;
  params.batch = phase == workloads::Phase::decode ? 4 : 1;
  const auto w = workloads::build_workload_from_file(source_path("configs/models/" + model), params);
  if (!view.cube_shape.count(w.model.dtype)) GTEST_SKIP() << "the cube of " << hw.name << " has no " << dtype_name(w.model.dtype);
  mapper::GemmTilingCache cache;
  std::size_t fused = 0;
  mapper::for_each_kernel_job(w.graphs.front(), view, cache, options_with(AttentionLowering::fused, true),
                              [&](mapper::Job& job) {
                                if (job.kind.empty()) return;
                                SCOPED_TRACE(model + " " + job.name + " " + job.tiling);
                                EXPECT_NO_THROW(check_loads(job.program, hw.machine.core));
                                ++fused;
                              });
  // At least every layer's attention is fused.
  EXPECT_GE(fused, w.model.num_layers);
}

class FusedShippedModel : public ::testing::TestWithParam<std::string> {};
TEST_P(FusedShippedModel, PrefillFitsTheBuffersOf910B2) {
  check_fused_model("configs/hw/ascend-910b2.yaml", GetParam(), workloads::Phase::prefill);
}
TEST_P(FusedShippedModel, DecodeFitsTheBuffersOf910B2) {
  check_fused_model("configs/hw/ascend-910b2.yaml", GetParam(), workloads::Phase::decode);
}
TEST_P(FusedShippedModel, PrefillFitsTheBuffersOfTheCoupled910) {
  check_fused_model("configs/hw/ascend-910.yaml", GetParam(), workloads::Phase::prefill);
}
TEST_P(FusedShippedModel, DecodeFitsTheBuffersOfTheCoupled910) {
  check_fused_model("configs/hw/ascend-910.yaml", GetParam(), workloads::Phase::decode);
}
INSTANTIATE_TEST_SUITE_P(Fusion, FusedShippedModel, ::testing::ValuesIn(shipped_models()),
                         [](const ::testing::TestParamInfo<std::string>& info) { return model_test_name(info.param); });

}  // namespace
}  // namespace npusim::test
