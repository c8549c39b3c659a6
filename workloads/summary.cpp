#include "workloads/summary.h"

#include <boost/graph/graphviz.hpp>
#include <fmt/format.h>

namespace npusim::workloads {

std::uint64_t parameter_count(const Graph& graph) {
  std::uint64_t n = 0;
  for (const Tensor& t : graph.tensors()) {
    if (t.role == TensorRole::weight) n += t.elements();
  }
  return n;
}

std::uint64_t active_parameter_count(const Graph& graph) {
  std::map<int, std::uint64_t> routed_by_layer;
  std::uint64_t active = 0;
  for (const Tensor& t : graph.tensors()) {
    if (t.role != TensorRole::weight) continue;
    if (t.expert >= 0) {
      routed_by_layer[t.layer] += t.elements();
    } else {
      active += t.elements();
    }
  }
  for (const MoeLayerInfo& info : graph.moe_layers) {
    active += routed_by_layer[info.layer] / info.experts * info.top_k;
    routed_by_layer.erase(info.layer);
  }
  // Expert weights in a layer without routing information are all active.
  for (const auto& [layer, n] : routed_by_layer) active += n;
  return active;
}

std::uint64_t total_flops(const Graph& graph) {
  std::uint64_t f = 0;
  for (auto [it, end] = boost::vertices(graph.adjacency()); it != end; ++it) f += graph.op(*it).flops;
  return f;
}

GraphSummary summarize(const Graph& graph) {
  GraphSummary s;
  s.parameters = parameter_count(graph);
  s.active_parameters = active_parameter_count(graph);
  for (auto [it, end] = boost::vertices(graph.adjacency()); it != end; ++it) {
    const Op& op = graph.op(*it);
    s.flops += op.flops;
    s.vector_ops += op.vector_ops;
    s.bytes_read += op.bytes_read;
    s.bytes_written += op.bytes_written;
    ++s.ops_by_kind[op_kind_name(op.kind)];
  }
  s.ops = graph.num_ops();
  s.tensors = graph.num_tensors();
  return s;
}

nlohmann::json summary_json(const Graph& graph) {
  const GraphSummary s = summarize(graph);
  auto roles = [](const RoleBytes& b) {
    return nlohmann::json{{"weight", b.weight}, {"activation", b.activation}, {"kv_cache", b.kv_cache}};
  };
  return nlohmann::json{
      {"name", graph.name()},
      {"parameters", s.parameters},
      {"active_parameters", s.active_parameters},
      {"flops", s.flops},
      {"vector_ops", s.vector_ops},
      {"bytes_by_role", {{"read", roles(s.bytes_read)}, {"written", roles(s.bytes_written)}}},
      {"ops_by_kind", s.ops_by_kind},
      {"ops", s.ops},
      {"tensors", s.tensors},
      {"context",
       {{"phase", phase_name(graph.context.phase)},
        {"batch", graph.context.batch},
        {"new_tokens", graph.context.new_tokens},
        {"context", graph.context.context},
        {"step", graph.context.step}}},
  };
}

namespace {

std::string shape_text(const std::vector<std::uint64_t>& shape) {
  std::string out = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) out += (i ? "," : "") + std::to_string(shape[i]);
  return out + "]";
}

std::string escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

}  // namespace

void write_dot(const Graph& graph, std::ostream& out) {
  const auto& g = graph.adjacency();
  auto vertex_writer = [&](std::ostream& os, Graph::OpId v) {
    const Op& op = graph.op(v);
    std::string label = fmt::format("{}\\n{}", escape(op.name), op_kind_name(op.kind));
    if (op.matmul) {
      label += fmt::format("\\n{}x[{}x{}x{}]", op.matmul->batch, op.matmul->m, op.matmul->k, op.matmul->n);
    }
    if (op.weight) label += "\\nW " + escape(graph.tensor(*op.weight).name);
    os << "[label=\"" << label << "\", shape=" << (op.matmul ? "box" : "ellipse") << "]";
  };
  auto edge_writer = [&](std::ostream& os, Graph::Adjacency::edge_descriptor e) {
    const Tensor& t = graph.tensor(g[e].tensor);
    os << "[label=\"" << escape(t.name) << " " << shape_text(t.shape) << "\"]";
  };
  auto graph_writer = [&](std::ostream& os) { os << "label=\"" << escape(graph.name()) << "\";\n"; };
  boost::write_graphviz(out, g, vertex_writer, edge_writer, graph_writer);
}

}  // namespace npusim::workloads
