#pragma once
// Everything the user can tell the mapper, resolved: tensor placement and
// tiling search. Read from a mapper config YAML
// (configs/mapper/*.yaml; schema in mapper_config.cpp) or left at defaults.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "arch/address_map.h"
#include "mapper/search/tiling_search.h"

namespace npusim::mapper {

// Where one class of tensors goes, and where it may overflow to.
struct TierRule {
  arch::Tier tier = arch::Tier::hbm;
  bool has_spill = false;
  arch::Tier spill = arch::Tier::ddr;
};

// The defaults put everything in HBM and let it overflow into DDR, which
// also places everything in DDR on a chip whose main memory is DDR alone
// (the 310P-like config).
struct PlacementPolicy {
  TierRule weights{arch::Tier::hbm, true, arch::Tier::ddr};
  TierRule kv_cache{arch::Tier::hbm, true, arch::Tier::ddr};
  TierRule activations{arch::Tier::hbm, true, arch::Tier::ddr};
  // Routed experts: the hottest fraction follows `hot_experts`, the rest
  // `cold_experts` (SN40L / pre-gated MoE: cold experts in DDR streamed on
  // use). Heat is the tokens each expert received in a profiling routing
  // trace when one is given (`hot_from`), which is what a deployment can
  // know ahead of time; without one it is the simulated step's own routing,
  // an oracle placement.
  TierRule hot_experts{arch::Tier::hbm, true, arch::Tier::ddr};
  TierRule cold_experts{arch::Tier::hbm, true, arch::Tier::ddr};
  double hot_expert_fraction = 1.0;
  std::map<std::uint64_t, std::vector<std::uint64_t>> expert_profile;  // layer -> tokens per expert
  std::string expert_profile_source;                                   // the trace file, "" for none
};

// How far the mapper fuses ops into one job (mapper/attention/,
// mapper/fusion/). The defaults are the faster choice on the shipped
// machines (README, under `--mapper`).
enum class AttentionLowering { unfused, fused, automatic };

struct FusionOptions {
  // fused: a layer's score -> softmax -> context chain is one
  // FlashAttention-style job; unfused: three jobs through GM; automatic:
  // fused where one layer's scores do not fit in L2, so that unfused they
  // would round-trip through DRAM (long prefill), unfused otherwise (short
  // prefill and decode, where L2 absorbs the round trip and the fused job's
  // per-tile hand-offs cost more than they save).
  AttentionLowering attention = AttentionLowering::automatic;
  // on: SwiGLU runs on the vector cores as the gate and up projection tiles
  // leave the cube, in the projections' job. Off by default: not faster on
  // the shipped machines at every shape (README).
  bool epilogues = false;
  // on: a ReLU whose input is a matmul's only use is applied by that
  // matmul's FixPipe as it writes the output (hardware-facts 1.3: FixPipe
  // does ReLU on the way), removing the vector op and the intermediate's GM
  // round trip. On by default: it costs FixPipe nothing.
  bool fixpipe_relu = true;
};

// The layer pipeline of a transformer prefill (mapper/dataflow/
// chunked_prefill.h): the step's tokens split into chunks that stream
// through the stages, each stage handing a chunk's activations to the next
// through one of `handoff_slots` slots.
struct PipelineOptions {
  std::uint64_t stages = 0;          // 0: the cost model chooses (1-4, dividing the cube cores)
  std::uint64_t prefill_chunks = 0;  // 0: the cost model chooses; 1: the whole step as one micro-batch
  std::uint64_t handoff_slots = 2;   // at least 2, so a stage can fill one slot while the next reads the other
};

struct MapperOptions {
  PlacementPolicy placement;
  PipelineOptions pipeline;
  SearchOptions search;
  FusionOptions fusion;
  std::string source;  // the file the options came from, "" for defaults
};

// Reads a mapper config file (keys: placement, search, attention, epilogue_fusion, fixpipe_relu, pipeline).
MapperOptions load_mapper_options(const std::string& path);

}  // namespace npusim::mapper
