// `npusim validate FILE...`: resolve each config as it would be for a run and
// print the resolved values with units. The kind of file is told by its
// top-level keys, so one command checks every config the project ships.
#include <iostream>

#include <fmt/format.h>

#include "common/config_node.h"
#include "common/error.h"
#include "mapper/compression/plan.h"
#include "mapper/mapper_options.h"
#include "sim/commands.h"
#include "sim/config/hw_config.h"
#include "stats/energy/tech_table.h"
#include "workloads/workload.h"

namespace npusim {
namespace {

void validate_model(const std::string& path) {
  const auto m = workloads::load_model_file(path);
  std::cout << fmt::format("model {} ({}): family {}, dtype {}", m.name, path, m.family, dtype_name(m.dtype));
  if (m.num_layers > 0) {
    std::cout << fmt::format(", {} layers, hidden {}, heads {} (kv {}), head_dim {}, ffn {}, vocab {}", m.num_layers,
                             m.hidden_size, m.num_heads, m.num_kv_heads, m.head_dim, m.intermediate_size,
                             m.vocab_size);
  }
  if (m.moe) {
    std::cout << fmt::format(", MoE {} experts top-{} in {} groups, expert ffn {}, shared ffn {}", m.moe->num_experts,
                             m.moe->top_k, m.moe->num_groups, m.moe->expert_intermediate_size,
                             m.moe->shared_intermediate_size);
  }
  std::cout << "\n";
}

void validate_tech(const std::string& path) {
  const auto t = stats::load_tech_table(path);
  std::cout << fmt::format("tech table {}: energy model {}\n", path, t.model);
}

void validate_plan(const std::string& path, const ConfigNode& root) {
  const auto plan = mapper::resolve_compression_plan(root);
  std::cout << fmt::format("compression plan {} ({}): {} rule(s){}\n", plan.name, path, plan.rules.size(),
                           plan.kv_cache ? ", a KV-cache section" : "");
}

void validate_mapper(const std::string& path) {
  const auto o = mapper::load_mapper_options(path);
  const auto chosen = [](std::uint64_t n) { return n == 0 ? std::string("by the cost model") : std::to_string(n); };
  std::cout << fmt::format("mapper options {}: hot expert fraction {}{}, search {} budget {}, confirm top {}, "
                           "pipeline stages {}, prefill chunks {}, hand-off slots {}\n",
                           path, o.placement.hot_expert_fraction,
                           o.placement.expert_profile_source.empty()
                               ? std::string(" (by the step's routing)")
                               : " (by " + o.placement.expert_profile_source + ")",
                           o.search.algorithm, o.search.budget, o.search.confirm_top, chosen(o.pipeline.stages),
                           chosen(o.pipeline.prefill_chunks), o.pipeline.handoff_slots);
}

}  // namespace

int command_validate(const std::vector<std::string>& files) {
  for (const auto& path : files) {
    const std::string lower = path;
    if (lower.size() > 5 && lower.compare(lower.size() - 5, 5, ".json") == 0) {
      validate_model(path);
      continue;
    }
    const ConfigNode root = ConfigNode::load_file(path);
    if (!root.is_map()) root.fail("a map of keys (a hardware, model, workload or technology config)");
    if (root.has("core")) {
      std::cout << describe_hw_config(resolve_hw_config(root));
    } else if (root.has("family")) {
      validate_model(path);
    } else if (root.has("mac_energy") || root.has("model")) {
      validate_tech(path);
    } else if (root.has("rules") || root.has("kv_cache")) {
      validate_plan(path, root);
    } else if (root.has("placement") || root.has("search") || root.has("attention") || root.has("epilogue_fusion") ||
               root.has("fixpipe_relu") || root.has("pipeline")) {
      validate_mapper(path);
    } else {
      root.fail_message(
          "cannot tell what kind of config this is: a hardware config has 'core', a model or workload config "
          "has 'family', a technology table has 'mac_energy', a compression plan has 'rules' or 'kv_cache', mapper options "
          "have 'placement', 'search', 'attention', 'epilogue_fusion', 'fixpipe_relu' or 'pipeline'");
    }
  }
  return kExitOk;
}

}  // namespace npusim
