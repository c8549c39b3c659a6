// Mapper config YAML, parsed and resolved in one place:
//
//   placement:
//     weights:      {tier: hbm, spill: ddr}    # tier: sram | hbm | ddr; spill: a tier or none
//     kv_cache:     {tier: hbm, spill: ddr}
//     activations:  {tier: sram, spill: hbm}
//     experts:      {hot: {tier: hbm, spill: ddr}, cold: {tier: ddr, spill: none}, hot_fraction: 0.25,
//                    hot_from: profile.json}  # routing trace ranking experts by heat (path relative
//                                             # to this file); without it, the step's own routing
//   search:
//     algorithm: exhaustive      # exhaustive | random (SearchRegistry)
//     budget: 5000               # cost-model evaluations per GEMM signature
//     seed: 1
//     confirm_top: 0             # simulate the N best candidates and keep the fastest
//                                # (GEMM tilings, and an op chain's dataflow mappings)
//     split_k_max: 1             # most K parts a GEMM may be split into (1 = never; up to 4)
//   attention: auto              # fused (one FlashAttention-style job per layer) | unfused
//                                # | auto (fused where a layer's scores exceed L2)
//   epilogue_fusion: off         # on (SwiGLU fused into the gate/up projections' job) | off
//   fixpipe_relu: on             # on (a ReLU after a matmul applied by its FixPipe) | off
//   pipeline:                    # layer-pipelined dataflow of a transformer
//     stages: 0                  # core groups the layers are split among; 0 = the cost model chooses
//     prefill_chunks: 0          # chunks of tokens streamed through the stages; 0 = the cost model chooses
//     handoff_slots: 2           # hand-off slots between two stages (>= 2): how far a stage may run ahead
//
// Every key is optional; unknown keys are errors naming file and line.
#include "mapper/mapper_options.h"

#include <filesystem>

#include <fmt/format.h>

#include "common/config_node.h"
#include "common/error.h"
#include "common/file_paths.h"
#include "mapper/search/search.h"
#include "workloads/routing.h"

namespace npusim::mapper {
namespace {

arch::Tier parse_tier(const ConfigNode& n) {
  const std::string t = n.as_choice({"sram", "hbm", "ddr"});
  return t == "sram" ? arch::Tier::sram : t == "ddr" ? arch::Tier::ddr : arch::Tier::hbm;
}

TierRule parse_rule(const ConfigNode& n, TierRule rule) {
  n.expect_map();
  n.expect_keys({"tier", "spill"});
  if (auto t = n.find("tier")) rule.tier = parse_tier(*t);
  if (auto s = n.find("spill")) {
    if (s->raw() == "none") {
      rule.has_spill = false;
    } else {
      rule.has_spill = true;
      rule.spill = parse_tier(*s);
    }
  }
  return rule;
}

}  // namespace

MapperOptions load_mapper_options(const std::string& path) {
  const ConfigNode root = ConfigNode::load_file(path);
  root.expect_map();
  root.expect_keys({"placement", "search", "attention", "epilogue_fusion", "fixpipe_relu", "pipeline"});
  MapperOptions o;
  o.source = path;
  if (auto p = root.find("placement")) {
    p->expect_map();
    p->expect_keys({"weights", "kv_cache", "activations", "experts"});
    if (auto n = p->find("weights")) o.placement.weights = parse_rule(*n, o.placement.weights);
    if (auto n = p->find("kv_cache")) o.placement.kv_cache = parse_rule(*n, o.placement.kv_cache);
    if (auto n = p->find("activations")) o.placement.activations = parse_rule(*n, o.placement.activations);
    // Experts default to whatever weights do.
    o.placement.hot_experts = o.placement.cold_experts = o.placement.weights;
    if (auto e = p->find("experts")) {
      e->expect_map();
      e->expect_keys({"hot", "cold", "hot_fraction", "hot_from"});
      if (auto n = e->find("hot")) o.placement.hot_experts = parse_rule(*n, o.placement.hot_experts);
      if (auto n = e->find("cold")) o.placement.cold_experts = parse_rule(*n, o.placement.cold_experts);
      if (auto n = e->find("hot_fraction")) o.placement.hot_expert_fraction = n->as_fraction();
      if (auto n = e->find("hot_from")) {
        const std::string file = relative_to(path, n->as_string());
        if (!std::filesystem::exists(file)) n->fail(fmt::format("a routing trace file (looked for {})", file));
        o.placement.expert_profile = workloads::RoutingTrace::load_file(file).tokens_per_expert();
        o.placement.expert_profile_source = file;
      }
    }
  }
  if (auto s = root.find("search")) {
    s->expect_map();
    s->expect_keys({"algorithm", "budget", "seed", "confirm_top", "split_k_max"});
    if (auto n = s->find("algorithm")) {
      o.search.algorithm = n->as_choice(SearchRegistry::instance().names());
    }
    if (auto n = s->find("budget")) o.search.budget = n->as_positive_int();
    if (auto n = s->find("seed")) o.search.seed = n->as_count();
    if (auto n = s->find("confirm_top")) o.search.confirm_top = static_cast<int>(n->as_count());
    if (auto n = s->find("split_k_max")) {
      const auto v = n->as_positive_int();
      if (v > 4) throw InputError(fmt::format("{}: must be 1 to 4, got {}", n->where(), v));
      o.search.split_k_max = static_cast<std::uint32_t>(v);
    }
  }
  if (auto n = root.find("attention")) {
    const std::string a = n->as_choice({"fused", "unfused", "auto"});
    o.fusion.attention = a == "fused"     ? AttentionLowering::fused
                         : a == "unfused" ? AttentionLowering::unfused
                                          : AttentionLowering::automatic;
  }
  if (auto n = root.find("epilogue_fusion")) o.fusion.epilogues = n->as_choice({"on", "off"}) == "on";
  if (auto n = root.find("fixpipe_relu")) o.fusion.fixpipe_relu = n->as_choice({"on", "off"}) == "on";
  if (auto p = root.find("pipeline")) {
    p->expect_map();
    p->expect_keys({"stages", "prefill_chunks", "handoff_slots"});
    if (auto n = p->find("stages")) o.pipeline.stages = n->as_count();
    if (auto n = p->find("prefill_chunks")) o.pipeline.prefill_chunks = n->as_count();
    if (auto n = p->find("handoff_slots")) {
      o.pipeline.handoff_slots = n->as_positive_int();
      if (o.pipeline.handoff_slots < 2) {
        throw InputError(fmt::format("{}: must be at least 2 (a stage fills one slot while the next reads another), "
                                     "got {}",
                                     n->where(), o.pipeline.handoff_slots));
      }
    }
  }
  return o;
}

}  // namespace npusim::mapper
