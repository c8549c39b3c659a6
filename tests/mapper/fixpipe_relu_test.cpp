// A ReLU after a matmul applied by the matmul's FixPipe (FusionOptions::
// fixpipe_relu), on graphs from the ONNX import path and from a graph
// workload: one job fewer, and exactly the intermediate's write and read
// fewer GM bytes; GELU stays a vector op; the option is validated.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <string>

#include <fmt/format.h>

#include "common/config_node.h"
#include "common/error.h"
#include "common/registry.h"
#include "arch/core/vector_timing.h"
#include "mapper/fusion/fusion_plan.h"
#include "mapper/kernel_mapper.h"
#include "sim_harness.h"
#include "workloads/onnx/onnx_import.h"
#include "workloads/model_family.h"
#include "workloads/onnx_test_models.h"
#include "workloads/workload.h"

namespace npusim::test {
namespace {

constexpr std::uint64_t kM = 256, kK = 512, kN = 1024;

// x[M,K] -> MatMul(up) -> `activation` -> MatMul(down) -> y, imported at fp16.
workloads::Graph mlp_from_onnx(const std::string& activation) {
  OnnxModelBuilder b;
  b.input("x", {kM, kK});
  b.weight("up.weight", {kK, kN});
  b.weight("down.weight", {kN, kK});
  b.node("MatMul", "/mlp/up_proj/MatMul", {"x", "up.weight"}, {"h"});
  b.node(activation, "/mlp/act/" + activation, {"h"}, {"a"});
  b.node("MatMul", "/mlp/down_proj/MatMul", {"a", "down.weight"}, {"y"});
  b.output("y", {kM, kK});
  workloads::OnnxImportOptions options;
  options.weight_dtype = DType::fp16;
  options.activation_dtype = DType::fp16;
  return workloads::import_onnx(b.save(scratch_dir() + "/mlp_" + activation + ".onnx"), options);
}

struct Mapped {
  std::size_t jobs = 0;
  double gm_bytes = 0;  // read and written by every instruction of every job
  std::size_t relu_fixpipes = 0;
};

Mapped map(const workloads::Graph& g, bool fixpipe_relu) {
  const auto view = run_machine_view(hw_910b2());
  mapper::GemmTilingCache cache;
  mapper::MapperOptions options;
  options.fusion.fixpipe_relu = fixpipe_relu;
  Mapped m;
  mapper::for_each_kernel_job(g, view, cache, options, [&](mapper::Job& job) {
    ++m.jobs;
    auto count = [&](const arch::CoreProgram& core) {
      for (const auto& in : core.instructions) {
        const bool gm = in.op == arch::Opcode::load || in.op == arch::Opcode::store ||
                        (in.op == arch::Opcode::fixpipe && in.dst == arch::Buffer::gm);
        if (gm) m.gm_bytes += static_cast<double>(in.bytes);
        if (in.op == arch::Opcode::fixpipe && in.relu) ++m.relu_fixpipes;
      }
    };
    for (const auto& c : job.program.cube_cores) count(c);
    for (const auto& c : job.program.vector_cores) count(c);
  });
  return m;
}

TEST(FixpipeRelu, ImportedReluIsRecognised) {
  const auto g = mlp_from_onnx("Relu");
  bool found = false;
  for (auto id : g.topological_order()) {
    const auto& op = g.op(id);
    if (op.kind != workloads::OpKind::Activation) continue;
    EXPECT_EQ(op.activation, workloads::ActivationFunction::relu);
    found = true;
  }
  EXPECT_TRUE(found);
}

TEST(FixpipeRelu, ReluFoldsIntoTheMatmulsFixpipe) {
  const auto g = mlp_from_onnx("Relu");
  const Mapped fused = map(g, true);
  const Mapped unfused = map(g, false);
  EXPECT_EQ(fused.jobs + 1, unfused.jobs);
  EXPECT_GT(fused.relu_fixpipes, 0u);
  EXPECT_EQ(unfused.relu_fixpipes, 0u);
  // Unfused, the up projection writes h and the ReLU reads h and writes a;
  // fused, FixPipe writes a directly: h's write and read are gone.
  const double h_bytes = kM * kN * 2.0;
  EXPECT_DOUBLE_EQ(unfused.gm_bytes - fused.gm_bytes, 2 * h_bytes);
}

// The same MLP as a graph workload naming its activation's function.
workloads::Graph mlp_from_yaml(const std::string& function) {
  const std::string text = fmt::format(
      "family: graph\nname: mlp\nops:\n"
      "  - {{name: up, kind: matmul, m: {0}, k: {1}, n: {2}}}\n"
      "  - {{name: act, kind: activation, inputs: [up], function: {3}}}\n"
      "  - {{name: down, kind: matmul, inputs: [act], m: {0}, k: {2}, n: {1}}}\n",
      kM, kK, kN, function);
  const auto config = workloads::make_family("graph", "mlp.yaml")->resolve(ConfigNode::load_string(text, "mlp.yaml"));
  return workloads::build_workload(config, workloads::WorkloadParams{}).graphs.front();
}

TEST(FixpipeRelu, GeluStaysOnTheVectorUnitAndReluFoldsFromAGraphWorkloadToo) {
  const Mapped gelu = map(mlp_from_yaml("gelu"), true);
  EXPECT_EQ(gelu.jobs, 3u);
  EXPECT_EQ(gelu.relu_fixpipes, 0u);
  const Mapped relu = map(mlp_from_yaml("relu"), true);
  EXPECT_EQ(relu.jobs, 2u);
  EXPECT_GT(relu.relu_fixpipes, 0u);
  EXPECT_DOUBLE_EQ(gelu.gm_bytes - relu.gm_bytes, 2 * kM * kN * 2.0);
}

// Unfused, an activation costs its own function on the vector unit: GELU's
// pass is not SiLU's, and ReLU is a plain compare-select.
TEST(FixpipeRelu, AnUnfusedActivationRunsItsOwnFunctionOnTheVectorUnit) {
  for (const std::string function : {"relu", "gelu", "silu"}) {
    std::map<arch::VectorOpKind, std::uint64_t> elements;
    const auto view = run_machine_view(hw_910b2());
    mapper::GemmTilingCache cache;
    mapper::MapperOptions options;
    options.fusion.fixpipe_relu = false;
    mapper::for_each_kernel_job(mlp_from_yaml(function), view, cache, options, [&](mapper::Job& job) {
      for (const auto* cores : {&job.program.cube_cores, &job.program.vector_cores}) {
        for (const auto& core : *cores) {
          for (const auto& in : core.instructions) {
            if (in.op == arch::Opcode::vector_op) elements[in.vector_kind] += in.elements;
          }
        }
      }
    });
    const auto kind = *arch::vector_op_from_name(function);
    EXPECT_EQ(elements[kind], kM * kN) << function;
    EXPECT_EQ(elements.size(), 1u) << function << ": the activation is the graph's only vector op";
  }
}

TEST(FixpipeRelu, AMatmulWithAnotherReaderKeepsItsOutput) {
  // h feeds the ReLU and the residual add: it must still be written.
  OnnxModelBuilder b;
  b.input("x", {kM, kK});
  b.weight("up.weight", {kK, kN});
  b.node("MatMul", "/mlp/up_proj/MatMul", {"x", "up.weight"}, {"h"});
  b.node("Relu", "/mlp/act/Relu", {"h"}, {"a"});
  b.node("Add", "/mlp/Add", {"a", "h"}, {"y"});
  b.output("y", {kM, kN});
  workloads::OnnxImportOptions options;
  options.weight_dtype = DType::fp16;
  options.activation_dtype = DType::fp16;
  const auto g = workloads::import_onnx(b.save(scratch_dir() + "/mlp_shared.onnx"), options);
  const auto view = run_machine_view(hw_910b2());
  mapper::FusionOptions fusion;
  EXPECT_TRUE(mapper::plan_fusions(g, fusion, view).fixpipe_relu.empty());
}

TEST(FixpipeRelu, OptionIsValidatedWithFileAndLine) {
  const std::string path = scratch_dir() + "/fixpipe_relu.yaml";
  std::ofstream(path) << "attention: auto\nfixpipe_relu: maybe\n";
  try {
    mapper::load_mapper_options(path);
    ADD_FAILURE() << "fixpipe_relu: maybe was accepted";
  } catch (const InputError& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find(path + ":2"), std::string::npos) << message;
    EXPECT_NE(message.find("fixpipe_relu"), std::string::npos) << message;
  }
  std::ofstream(path) << "fixpipe_relu: off\n";
  EXPECT_FALSE(mapper::load_mapper_options(path).fusion.fixpipe_relu);
  EXPECT_TRUE(mapper::MapperOptions{}.fusion.fixpipe_relu);
}

}  // namespace
}  // namespace npusim::test
