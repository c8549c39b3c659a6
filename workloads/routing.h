#pragma once
// MoE routing: how many tokens each routed expert receives, per MoE layer
// and per step. Routing decides each expert's matmul M; nothing else in the
// graph depends on it.
//
// Conservation (checked for every source): in every MoE layer and step, for
// every expert group g (one group unless the model has grouped experts),
//   sum over experts e in g of tokens[e] = tokens_in x top_k / num_groups,
// and no expert receives a token twice, so tokens[e] <= tokens_in.
//
// ---------------------------------------------------------------------------
// Routing trace format (JSON), as written by scripts/ from a traced model:
//
//   {
//     "format": "npusim-routing-v1",
//     "layers": [
//       { "layer": 1,                      // decoder layer index (an MoE layer)
//         "steps": [ [3, 0, 5, 8, ...],    // step 0: tokens per routed expert,
//                    [0, 1, 0, 1, ...] ] } // step 1: ... (one list per step)
//     ]
//   }
//
// - "layer" is the 0-based decoder layer, as in op names (layers.N...).
// - Each step list has one non-negative integer per routed expert, in expert
//   index order (group g holds experts g*E/G ... (g+1)*E/G - 1).
// - Step 0 is the prefill graph, or the first decode step; decode step s
//   uses list s. A trace must cover every MoE layer and every step the
//   workload builds; extra layers or steps are an error too, so a trace for
//   a different model is caught.
// - Errors name the file and the JSON path (layers[2].steps[0][5]); syntax
//   errors name the line and column.
// ---------------------------------------------------------------------------
//
// Synthetic routers (registered by name, chosen with `router:` in a workload)
// give expected-value routing: each expert receives its probability share of
// tokens x top_k, rounded by largest remainder, capped at one visit per token
// with the excess spread over the others. The seed decides, per layer and
// step, which expert takes which rank, so a run is deterministic and the hot
// experts move between layers as they do in real traces.
//   uniform: every expert in a group equally likely;
//   zipf:    the r-th most popular expert in a group has weight 1/r^zipf_s;
//   hot:     a hot_fraction of each group's experts (at least one) carries
//            hot_share of that group's traffic, the rest share the remainder.
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/registry.h"
#include "workloads/model_config.h"

namespace npusim::workloads {

class RoutingSource {
 public:
  virtual ~RoutingSource() = default;
  // Tokens each routed expert of `layer` receives at `step`, when `tokens`
  // tokens enter the layer. One entry per routed expert.
  virtual std::vector<std::uint64_t> route(std::uint64_t layer, std::uint64_t step, std::uint64_t tokens,
                                           const MoeConfig& moe) const = 0;
};

struct RouterParams {
  std::string name = "uniform";
  std::uint64_t seed = 1;
  double zipf_s = 1.0;
  double hot_fraction = 0.125;
  double hot_share = 0.5;
};

// Synthetic routers, created by name from Registry<Router, const RouterParams&>.
class Router : public RoutingSource {};
using RouterRegistry = Registry<Router, const RouterParams&>;
std::unique_ptr<Router> make_router(const RouterParams& params);

// A recorded trace (format above).
class RoutingTrace : public RoutingSource {
 public:
  static RoutingTrace load_file(const std::string& path);
  static RoutingTrace parse(const std::string& text, const std::string& origin);

  std::vector<std::uint64_t> route(std::uint64_t layer, std::uint64_t step, std::uint64_t tokens,
                                   const MoeConfig& moe) const override;
  // Checks the trace against a model and workload before any graph is built:
  // every MoE layer present, no other layer, `steps` steps each.
  void check_covers(const ModelConfig& model, std::uint64_t steps) const;
  // Tokens each routed expert received over every step of the trace, by
  // layer: a routing profile, e.g. for choosing which experts to keep hot.
  std::map<std::uint64_t, std::vector<std::uint64_t>> tokens_per_expert() const;
  const std::string& origin() const { return origin_; }

 private:
  struct LayerEntry {
    std::size_t index = 0;  // position in "layers", for messages
    std::vector<std::vector<std::uint64_t>> steps;
  };
  std::string origin_;
  std::map<std::uint64_t, LayerEntry> layers_;
};

// Checks the conservation law above; throws InputError prefixed by `where`.
void check_conservation(const std::vector<std::uint64_t>& counts, std::uint64_t tokens, const MoeConfig& moe,
                        const std::string& where);

}  // namespace npusim::workloads
