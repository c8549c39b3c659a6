#include "workloads/families/graph_family.h"

#include <map>

#include <fmt/format.h>

#include "common/error.h"
#include "common/params.h"
#include "workloads/graph_builder.h"
#include "workloads/model_family.h"

namespace npusim::workloads {
namespace {

const ParamTable kGraphTable("graph", "A workload written op by op (family: graph).",
                             {
                                 {"family", "", "", "graph"},
                                 {"name", "", "", "workload name used in reports"},
                                 {"dtype", "fp16", "", "dtype of weights and activations"},
                                 {"ops", "", "", "list of ops in dependency order"},
                             });
const ParamTableRegistration kGraphTableReg(kGraphTable);

const ParamTable kOpTable("graph.ops[]", "One op of an explicit graph.",
                          {
                              {"name", "", "", "unique op name"},
                              {"kind", "", "", "op kind (matmul, batch_matmul, activation, add, ...)"},
                              {"inputs", "[]", "", "names of earlier ops whose outputs this op reads"},
                              {"m", "0", "elements", "matmul M (rows of A)"},
                              {"k", "0", "elements", "matmul K (reduction)"},
                              {"n", "0", "elements", "matmul N (columns of B)"},
                              {"batch", "1", "", "independent matmuls (heads)"},
                              {"weight", "auto", "", "B is a weight; auto = true except attention kinds"},
                              {"shape", "[]", "elements", "shape of the graph input of a vector op without inputs"},
                              {"function", "unspecified", "", "what an activation op computes: relu | gelu | silu (activation only)"},
                          });
const ParamTableRegistration kOpTableReg(kOpTable);

std::string kind_list() {
  std::string out;
  for (OpKind k : all_op_kinds()) out += (out.empty() ? "" : " | ") + std::string(op_kind_name(k));
  return out;
}

ExplicitOp resolve_op(const ConfigNode& node, const std::map<std::string, std::vector<std::uint64_t>>& shapes) {
  const ParamReader r(node, kOpTable);
  ExplicitOp op;
  op.name = r["name"].as_string();
  if (shapes.count(op.name)) r["name"].fail("a name not used by an earlier op");
  const auto kind = op_kind_from_name(r["kind"].as_string());
  if (!kind) r["kind"].fail("one of " + kind_list());
  op.kind = *kind;
  for (const auto& in : r["inputs"].elements()) {
    op.inputs.push_back(in.as_string());
    if (!shapes.count(op.inputs.back())) in.fail("the name of an earlier op");
  }
  if (is_matmul_like(op.kind)) {
    op.matmul = MatmulShape{r["batch"].as_positive_int(), r["m"].as_positive_int(), r["k"].as_positive_int(),
                            r["n"].as_positive_int()};
    const ConfigNode w = r["weight"];
    const bool attention = op.kind == OpKind::AttentionScore || op.kind == OpKind::AttentionContext;
    op.weight = (w.is_scalar() && w.raw() == "auto") ? !attention : w.as_bool();
    if (!op.inputs.empty()) {
      std::uint64_t have = 1;
      for (auto d : shapes.at(op.inputs.front())) have *= d;
      const std::uint64_t need = op.matmul.batch * op.matmul.m * op.matmul.k;
      if (have != need) {
        r["inputs"].fail(fmt::format("a first input with batch x m x k = {} elements ('{}' has {})", need,
                                     op.inputs.front(), have));
      }
    }
  } else {
    for (const auto& d : r["shape"].elements()) op.shape.push_back(d.as_positive_int());
    if (op.inputs.empty() && op.shape.empty()) r["inputs"].fail("at least one earlier op, or a shape: for the input");
  }
  if (r.given("function")) {
    if (op.kind != OpKind::Activation) r["function"].fail("no function key: only an activation op takes one");
    const auto function = activation_function_from_name(r["function"].as_string());
    if (!function) r["function"].fail("relu, gelu or silu");
    op.activation = *function;
  }
  return op;
}

class GraphFamily : public ModelFamily {
 public:
  ModelConfig resolve(const ConfigNode& root) const override {
    const ParamReader r(root, kGraphTable);
    ModelConfig c;
    c.source = root.file();
    c.family = r["family"].as_string();
    c.name = r["name"].as_string();
    const auto dtype = dtype_from_name(r["dtype"].as_string());
    if (!dtype) r["dtype"].fail(std::string("a dtype (") + dtype_choices() + ")");
    c.dtype = *dtype;
    auto spec = std::make_shared<ExplicitGraph>();
    std::map<std::string, std::vector<std::uint64_t>> shapes;
    const ConfigNode ops = r["ops"];
    if (!ops.is_sequence() || ops.size() == 0) ops.fail("a non-empty list of ops");
    for (const auto& node : ops.elements()) {
      ExplicitOp op = resolve_op(node, shapes);
      if (is_matmul_like(op.kind)) {
        shapes[op.name] = {op.matmul.batch, op.matmul.m, op.matmul.n};
      } else {
        shapes[op.name] = op.inputs.empty() ? op.shape : shapes.at(op.inputs.front());
      }
      spec->ops.push_back(std::move(op));
    }
    c.explicit_graph = std::move(spec);
    return c;
  }

  void validate(const ModelConfig& c, const std::string& where) const override {
    if (!c.explicit_graph) throw InputError(fmt::format("{}: ops: the graph family needs a list of ops", where));
  }

  Graph build(const ModelConfig& c, const StepSpec& step, const RoutingSource&) const override {
    Graph g(fmt::format("{}:{}:step{}", c.name, phase_name(step.context.phase), step.context.step));
    g.context = step.context;
    GraphBuilder b(g, step.weight_dtype, step.activation_dtype, step.kv_dtype);
    std::map<std::string, TensorId> out_of;
    for (const ExplicitOp& e : c.explicit_graph->ops) {
      Op op;
      op.name = e.name;
      op.kind = e.kind;
      op.activation = e.activation;
      for (const auto& in : e.inputs) op.inputs.push_back(out_of.at(in));
      std::vector<std::uint64_t> out_shape;
      if (is_matmul_like(e.kind)) {
        const MatmulShape& s = e.matmul;
        op.matmul = s;
        if (op.inputs.empty()) op.inputs.push_back(b.activation(e.name + ":in", {s.batch, s.m, s.k}, -1));
        if (e.weight) {
          const TensorId w = s.batch == 1 ? b.weight(e.name + ".weight", {s.k, s.n}, -1)
                                          : b.weight(e.name + ".weight", {s.batch, s.k, s.n}, -1);
          op.weight = w;
          op.inputs.insert(op.inputs.begin() + 1, w);
        } else if (op.inputs.size() < 2) {
          op.inputs.push_back(b.activation(e.name + ":b", {s.batch, s.k, s.n}, -1));
        }
        out_shape = {s.batch, s.m, s.n};
      } else {
        if (op.inputs.empty()) op.inputs.push_back(b.activation(e.name + ":in", e.shape, -1));
        out_shape = g.tensor(op.inputs.front()).shape;
      }
      const TensorId out = b.activation(e.name + ":out", out_shape, -1);
      op.outputs = {out};
      out_of[e.name] = out;
      b.add(std::move(op));
    }
    return g;
  }
};

const Registration<ModelFamily> kRegistration("model family", "graph",
                                              "explicit ops written in YAML (kernels, micro-benchmarks)",
                                              [] { return std::make_unique<GraphFamily>(); });

}  // namespace
}  // namespace npusim::workloads
