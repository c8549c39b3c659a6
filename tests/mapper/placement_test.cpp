// Tier placement by capacity and policy: plain C++, no simulation.
#include <gtest/gtest.h>

#include <fstream>

#include "common/error.h"
#include "mapper/compression/apply_plan.h"
#include "mapper/compression/plan.h"
#include "mapper/placement.h"
#include "sim/config/hw_config.h"
#include "sim/run/mapper_setup.h"
#include "support/test_paths.h"
#include "workloads/workload.h"

namespace npusim::test {
namespace {

workloads::Graph model_graph(const std::string& model, workloads::Phase phase, std::uint64_t seq) {
  workloads::WorkloadParams params;
  params.phase = phase;
  params.seq = seq;
  return std::move(workloads::build_workload_from_file(source_path("configs/models/" + model), params).graphs.front());
}

mapper::MachineView view_of(const std::string& hw) { return run_machine_view(load_hw_config(source_path("configs/hw/" + hw))); }

std::string write_policy(const std::string& text) {
  const std::string path = scratch_dir() + "/mapper.yaml";
  std::ofstream(path) << text;
  return path;
}

TEST(Placement, MixtralWeightsDoNotFitThe910B2AndTheErrorNamesTensorAndTier) {
  const auto g = model_graph("mixtral-8x7b.yaml", workloads::Phase::decode, 128);
  try {
    mapper::place_tensors(g, view_of("ascend-910b2.yaml"));
    FAIL() << "93 GB of weights placed in 64 GiB of HBM";
  } catch (const InputError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("tensor 'layers."), std::string::npos) << what;
    EXPECT_NE(what.find("does not fit in tier hbm"), std::string::npos) << what;
    EXPECT_NE(what.find("spill tier ddr does not exist"), std::string::npos) << what;
  }
}

TEST(Placement, ColdExpertsGoToDdrAndHotOnesStayInHbm) {
  const auto g = model_graph("mixtral-8x7b.yaml", workloads::Phase::prefill, 256);
  const auto options = mapper::load_mapper_options(source_path("configs/mapper/moe-experts-ddr.yaml"));
  const auto placement = mapper::place_tensors(g, view_of("dataflow-3tier.yaml"), options.placement);
  const auto hot = mapper::hot_experts(g, options.placement);
  std::size_t hot_hbm = 0, cold_ddr = 0, experts = 0;
  for (const auto& t : g.tensors()) {
    if (t.role != workloads::TensorRole::weight || t.expert < 0) continue;
    ++experts;
    const auto tier = placement.tensors[t.id].tier;
    if (hot[t.id] && tier == arch::Tier::hbm) ++hot_hbm;
    if (!hot[t.id] && tier == arch::Tier::ddr) ++cold_ddr;
  }
  // 8 experts, 2 hot per layer (a quarter), 3 weights each, 32 layers.
  EXPECT_EQ(experts, 32u * 8u * 3u);
  EXPECT_EQ(hot_hbm, 32u * 2u * 3u);
  EXPECT_EQ(cold_ddr, 32u * 6u * 3u);
  // Activations are in the SRAM tier, addressed there.
  const auto in = *g.find_tensor("embed_tokens:out");
  EXPECT_EQ(placement.tensors[in].tier, arch::Tier::sram);
  EXPECT_EQ(arch::tier_of(placement.tensors[in].address), arch::Tier::sram);
}

// With a profiling trace the hot experts are the profile's, not the step's:
// a profile that favours experts 6 and 7 in every layer puts exactly those in
// HBM even though the step routes uniformly (the oracle would keep 0 and 1).
TEST(Placement, HotExpertsComeFromTheProfilingTraceWhenOneIsGiven) {
  const auto g = model_graph("mixtral-8x7b.yaml", workloads::Phase::prefill, 256);
  const std::string dir = scratch_dir();
  {
    std::ofstream profile(dir + "/profile.json");
    profile << "{\"format\": \"npusim-routing-v1\", \"layers\": [";
    for (int layer = 0; layer < 32; ++layer) {
      profile << (layer ? "," : "") << "{\"layer\": " << layer
              << ", \"steps\": [[1, 1, 1, 1, 1, 1, 4, 6], [0, 0, 1, 1, 1, 1, 6, 6]]}";
    }
    profile << "]}";
  }
  std::ofstream(dir + "/mapper.yaml") << "placement:\n  experts: {hot: {tier: hbm, spill: ddr}, cold: {tier: ddr, "
                                         "spill: none}, hot_fraction: 0.25, hot_from: profile.json}\n";
  const auto options = mapper::load_mapper_options(dir + "/mapper.yaml");
  const auto hot = mapper::hot_experts(g, options.placement);
  std::size_t hot_count = 0;
  for (const auto& t : g.tensors()) {
    if (t.expert < 0 || t.role != workloads::TensorRole::weight) continue;
    EXPECT_EQ(hot[t.id], t.expert >= 6) << t.name;
    hot_count += hot[t.id];
  }
  EXPECT_EQ(hot_count, 32u * 2u * 3u);

  std::ofstream(dir + "/short.json") << "{\"format\": \"npusim-routing-v1\", \"layers\": "
                                        "[{\"layer\": 0, \"steps\": [[1, 1, 1, 1, 1, 1, 4, 6]]}]}";
  std::ofstream(dir + "/short.yaml") << "placement:\n  experts: {hot_fraction: 0.25, hot_from: short.json}\n";
  try {
    mapper::hot_experts(g, mapper::load_mapper_options(dir + "/short.yaml").placement);
    FAIL() << "a profile missing layers was accepted";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("no entry for MoE layer 1"), std::string::npos) << e.what();
  }
  std::ofstream(dir + "/absent.yaml") << "placement:\n  experts: {hot_from: nothere.json}\n";
  EXPECT_THROW(mapper::load_mapper_options(dir + "/absent.yaml"), InputError);
}

TEST(Placement, KvCacheSpillsToDdrWhenHbmIsFullAndFailsWithoutASpillTier) {
  const auto g = model_graph("llama-2-7b.yaml", workloads::Phase::decode, 2048);
  auto view = view_of("dataflow-3tier.yaml");
  view.hbm_capacity = 13ULL << 30;  // the weights (13.5 GB) and less than the KV (1.1 GB)
  const auto placement = mapper::place_tensors(g, view);
  std::size_t kv_ddr = 0;
  for (const auto& t : g.tensors()) {
    if (t.role == workloads::TensorRole::kv_cache && placement.tensors[t.id].tier == arch::Tier::ddr) ++kv_ddr;
  }
  EXPECT_GT(kv_ddr, 0u);
  EXPECT_GT(placement.spilled_tensors, 0u);

  const auto options = mapper::load_mapper_options(write_policy("placement:\n  kv_cache: {tier: hbm, spill: none}\n"));
  EXPECT_THROW(
      {
        try {
          mapper::place_tensors(g, view, options.placement);
        } catch (const InputError& e) {
          EXPECT_NE(std::string(e.what()).find("configures no spill tier"), std::string::npos) << e.what();
          throw;
        }
      },
      InputError);
}

// configs/compression/*.yaml's kv_cache.tier decides where the cache lives.
TEST(Placement, CompressionPlanKvTierIsHonouredAndAnUnfitCacheNamesTensorAndTier) {
  const std::uint64_t ctx = 2048;
  std::vector<workloads::Graph> graphs;
  graphs.push_back(model_graph("llama-2-7b.yaml", workloads::Phase::decode, ctx));
  const std::string plan_path = scratch_dir() + "/kv-ddr.yaml";
  std::ofstream(plan_path) << "name: kv-ddr\ndescription: fp16 KV cache in DDR\nkv_cache:\n  tier: ddr\n";
  const auto ddr_hw = load_hw_config(source_path("configs/hw/ascend-910b2-ddr.yaml"));
  mapper::apply_compression_plan(mapper::load_compression_plan(plan_path), graphs,
                                 mapper::compression_target(ddr_hw.machine.core));
  const auto placement = mapper::place_tensors(graphs.front(), run_machine_view(ddr_hw));
  std::size_t kv_tensors = 0;
  for (const auto& t : graphs.front().tensors()) {
    if (t.role != workloads::TensorRole::kv_cache) continue;
    ++kv_tensors;
    EXPECT_EQ(placement.tensors[t.id].tier, arch::Tier::ddr) << t.name;
    EXPECT_EQ(arch::tier_of(placement.tensors[t.id].address), arch::Tier::ddr) << t.name;
  }
  EXPECT_EQ(kv_tensors, 32u * 4u) << "K and V caches and their appends per layer";
  // Llama-2-7B: 32 layers x 32 KV heads x 128, fp16, the cache plus this step's token.
  EXPECT_EQ(placement.resident_bytes.at("ddr"), 2ULL * 32 * 32 * 128 * (ctx + 1) * 2);
  EXPECT_EQ(placement.spilled_tensors, 0u);

  // The same plan on a machine without DDR: the cache has nowhere to go.
  try {
    mapper::place_tensors(graphs.front(), view_of("ascend-910b2.yaml"));
    FAIL() << "a KV cache placed in a DDR tier the machine does not have";
  } catch (const InputError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("tensor 'layers.0.self_attn.k_cache"), std::string::npos) << what;
    EXPECT_NE(what.find("kv_cache) does not fit in tier ddr: the machine has no ddr tier"), std::string::npos) << what;
  }
}

// kv_cache.prefetch: two HBM staging slots of one layer's cache, attention
// reads the copy in its layer's slot, and a slot that does not fit is an
// error naming the staging buffer and the tier.
TEST(Placement, KvPrefetchReservesTwoLayerSlotsInHbm) {
  const std::uint64_t ctx = 4096;
  std::vector<workloads::Graph> graphs;
  graphs.push_back(model_graph("llama-2-7b.yaml", workloads::Phase::decode, ctx));
  const std::string plan_path = scratch_dir() + "/kv-ddr-prefetch.yaml";
  std::ofstream(plan_path) << "name: kv-ddr-prefetch\ndescription: x\nkv_cache:\n  tier: ddr\n  prefetch: true\n";
  const auto hw = load_hw_config(source_path("configs/hw/ascend-910b2-ddr.yaml"));
  mapper::apply_compression_plan(mapper::load_compression_plan(plan_path), graphs,
                                 mapper::compression_target(hw.machine.core));
  const auto& g = graphs.front();
  auto view = run_machine_view(hw);
  const auto placement = mapper::place_tensors(g, view);
  // One layer's K and V: 32 KV heads x 128 x 4096 tokens, fp16.
  const std::uint64_t layer_bytes = 2ULL * 32 * 128 * ctx * 2;
  EXPECT_EQ(placement.kv_staging_bytes, 2 * layer_bytes);
  EXPECT_EQ(placement.staged_address.size(), 32u * 2u) << "the caches attention reads, not the appends";
  const auto k0 = *g.find_tensor("layers.0.self_attn.k_cache");
  const auto k1 = *g.find_tensor("layers.1.self_attn.k_cache");
  const auto k2 = *g.find_tensor("layers.2.self_attn.k_cache");
  EXPECT_EQ(placement.tensors[k0].tier, arch::Tier::ddr) << "the cache's home stays in DDR";
  EXPECT_EQ(arch::tier_of(placement.read_address(k0)), arch::Tier::hbm);
  EXPECT_EQ(placement.read_address(k1) - placement.read_address(k0), layer_bytes) << "the other slot";
  EXPECT_EQ(placement.read_address(k2), placement.read_address(k0)) << "layer parity picks the slot";
  EXPECT_EQ(placement.staged_bytes.at(k0), layer_bytes / 2);

  // Room for the weights and one slot, not two.
  view.hbm_capacity = placement.resident_bytes.at("hbm") - placement.kv_staging_bytes + layer_bytes;
  try {
    mapper::place_tensors(g, view);
    FAIL() << "a staging buffer placed in a full HBM";
  } catch (const InputError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("the KV prefetch staging buffer (2 x 67108864 B, for tensors such as 'layers.0.self_attn"),
              std::string::npos)
        << what;
    EXPECT_NE(what.find("does not fit in tier hbm"), std::string::npos) << what;
  }
}

TEST(Placement, PolicyFileErrorsNameFileAndKey) {
  EXPECT_THROW(mapper::load_mapper_options(write_policy("placement:\n  weights: {tier: flash}\n")), InputError);
  EXPECT_THROW(mapper::load_mapper_options(write_policy("placment: {}\n")), InputError);
  EXPECT_THROW(mapper::load_mapper_options(write_policy("search: {algorithm: annealing}\n")), InputError);
  const auto o = mapper::load_mapper_options(source_path("configs/mapper/default.yaml"));
  EXPECT_EQ(o.search.algorithm, "exhaustive");
  EXPECT_EQ(o.search.budget, 5000u);
}

}  // namespace
}  // namespace npusim::test
