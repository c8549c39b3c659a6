#pragma once
// A compression plan (`npusim run --compression FILE`), phase two of its
// YAML: rules that give matmul weights and activations their precision,
// sparsity and storage, and the KV-cache layout. Keys, defaults and units are
// declared once in plan.cpp's ParamTables (`npusim list` prints them).
//
//   name: w4a8-g128
//   description: "..."
//   decompression: {unit: vector}        # or {unit: engine, engine_elements_per_cycle: 256}
//   rules:                               # first matching rule wins, in file order
//     - match: ["layers.{0,31}.*", lm_head]   # one glob or a list (name_glob.h)
//       weights: fp16
//     - match: "*"
//       weights: int4                    # a dtype, or `model` (the tensor's own)
//       activations: int8                # a dtype, or `model`
//       group_size: 128                  # elements per scale: N, channel, none or auto
//       zero_points: false
//       sparsity: dense                  # dense | unstructured | N:M (e.g. 2:4)
//       density: 1                       # kept fraction, unstructured only
//       format: auto                     # dense | bitmap | csr | n_m_compressed | auto
//       kept_in_channels: 1              # structured pruning (shrinks K)
//       kept_out_channels: 1             # structured pruning (shrinks N)
//       activation_density: 1            # nonzero fraction of A
//   kv_cache:
//     layout: head-major                 # head-major | token-major
//     paged: true
//     block_tokens: 16
//     precision: int8                    # a dtype, or `model`
//     scales: per-token                  # none | per-token | per-group
//     group_size: 64                     # per-group only
//     zero_points: true
//     full_precision_tokens: 4           # IntactKV pivots
//     tier: hbm                          # hbm | ddr
//     prefetch: false                    # ddr only: fetch the next layer's KV ahead
//
// Rules match the names of matmul ops that read a weight (q_proj, ...,
// lm_head, MoE experts and routers). A rule that claims no op (it matches
// nothing, or only ops an earlier rule already took) is an error naming the
// rule, the file and the line. Ops no rule matches keep their own format.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/config_node.h"
#include "common/dtype.h"
#include "workloads/annotations.h"

namespace npusim::mapper {

struct CompressionRule {
  std::vector<std::string> patterns;
  std::string where;  // "<file>:<line>: rules[i]", for errors about the rule as a whole
  std::optional<DType> weights;      // unset: the tensor's own dtype
  std::optional<DType> activations;  // unset: the activation's own dtype
  enum class Group { none, channel, size } group = Group::none;
  std::uint32_t group_size = 0;  // when group == size
  bool zero_points = false;
  workloads::SparsityPattern sparsity = workloads::SparsityPattern::dense;
  double density = 1.0;
  std::uint32_t n = 0, m = 0;
  workloads::StorageFormat storage = workloads::StorageFormat::dense;
  double kept_in = 1.0, kept_out = 1.0;
  double activation_density = 1.0;
};

struct KvPlan {
  std::string where;
  workloads::KvMajor major = workloads::KvMajor::head;
  bool paged = false;
  std::uint32_t block_tokens = 0;
  std::optional<DType> precision;  // unset: the cache's own dtype
  workloads::KvScaleGranularity scales = workloads::KvScaleGranularity::none;
  std::uint32_t group_size = 0;
  bool zero_points = false;
  std::uint32_t full_precision_tokens = 0;
  std::string tier = "hbm";
  bool prefetch = false;
};

// Where sparse formats are expanded when the cube cannot take them as
// stored: the vector unit at its decompress rate, or a decompression engine
// in the load path with its own throughput (elements per cycle per core).
struct DecompressionPlan {
  enum class Unit { vector, engine } unit = Unit::vector;
  double engine_elements_per_cycle = 0;
};

struct CompressionPlan {
  std::string name;
  std::string description;
  std::string file;
  std::vector<CompressionRule> rules;
  std::optional<KvPlan> kv_cache;
  DecompressionPlan decompression;
};

CompressionPlan load_compression_plan(const std::string& path);
CompressionPlan resolve_compression_plan(const ConfigNode& root);

}  // namespace npusim::mapper
