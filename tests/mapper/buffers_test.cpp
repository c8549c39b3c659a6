// No mapping ever exceeds a buffer: every job of every shipped model, in
// prefill and decode, goes through the core's own load-time check
// (arch::plan_program, what AiCore::load runs), and so does every dataflow
// pipeline of the shipped workload graphs.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "arch/core/program_plan.h"
#include "common/error.h"
#include "mapper/dataflow/dataflow_mapper.h"
#include "mapper/kernel_mapper.h"
#include "sim/config/hw_config.h"
#include "sim/run/mapper_setup.h"
#include "support/shipped_models.h"
#include "support/test_paths.h"
#include "workloads/workload.h"

namespace npusim::test {
namespace {

// Throws SimulationError, naming the buffer, on any overflow.
void check_loads(const arch::Program& program, const arch::CoreConfig& core) {
  const int group = static_cast<int>(core.cores_per_group());
  const bool split = core.style == arch::CoreStyle::split;
  for (std::size_t i = 0; i < program.cube_cores.size(); ++i) {
    arch::plan_program(core, {"aic", split ? arch::CoreRole::cube : arch::CoreRole::coupled, 0, group},
                       program.cube_cores[i]);
  }
  for (std::size_t i = 0; i < program.vector_cores.size(); ++i) {
    arch::plan_program(core, {"aiv", arch::CoreRole::vector, 1, group}, program.vector_cores[i]);
  }
}

// Maps one model's jobs and checks each against the core's load-time check.
std::size_t check_jobs(const std::string& model_file, workloads::Phase phase, std::uint64_t seq, std::uint64_t batch,
                       const mapper::MachineView& view, const arch::CoreConfig& core) {
  workloads::WorkloadParams params;
  params.phase = phase;
  params.seq = seq;
  params.batch = batch;
  const auto w = workloads::build_workload_from_file(model_file, params);
  mapper::GemmTilingCache cache;
  mapper::MapperOptions options;
  options.placement.activations.has_spill = true;  // HBM may be full of weights here
  std::size_t jobs = 0;
  // Job by job: holding every program of a model at once runs out of memory.
  mapper::for_each_kernel_job(w.graphs.front(), view, cache, options, [&](mapper::Job& job) {
    SCOPED_TRACE(model_file + " " + job.name + " " + job.tiling);
    EXPECT_NO_THROW(check_loads(job.program, core));
    ++jobs;
  });
  return jobs;
}

// One test per (machine, shipped model, phase), so each stays under 30 s.
void check_model(const std::string& hw_file, const std::string& model, workloads::Phase phase) {
  const HwConfig hw = load_hw_config(source_path(hw_file));
  auto view = run_machine_view(hw);
  view.ddr_capacity = 4ULL << 40;  // capacity is placement's test; this one is about buffers
  const std::string file = source_path("configs/models/" + model);
  const DType dtype = workloads::build_workload_from_file(file, workloads::WorkloadParams{}).model.dtype;
  const std::uint64_t batch = phase == workloads::Phase::decode ? 4 : 1;
  if (!view.cube_shape.count(dtype)) {
    // The coupled 910 has no bf16 cube: mapping must refuse, naming it.
    EXPECT_THROW(check_jobs(file, phase, 128, batch, view, hw.machine.core), InputError);
    GTEST_SKIP() << model << " is " << dtype_name(dtype) << ", which the cube of " << hw.name << " does not support";
  }
  EXPECT_GT(check_jobs(file, phase, 128, batch, view, hw.machine.core), 20u);
}

class ShippedModel : public ::testing::TestWithParam<std::string> {};

constexpr const char* k910B2 = "configs/hw/ascend-910b2.yaml";
constexpr const char* k910 = "configs/hw/ascend-910.yaml";
TEST_P(ShippedModel, PrefillMapsWithinTheBuffersOf910B2) { check_model(k910B2, GetParam(), workloads::Phase::prefill); }
TEST_P(ShippedModel, DecodeMapsWithinTheBuffersOf910B2) { check_model(k910B2, GetParam(), workloads::Phase::decode); }
TEST_P(ShippedModel, PrefillMapsWithinTheBuffersOfTheCoupled910) {
  check_model(k910, GetParam(), workloads::Phase::prefill);
}
TEST_P(ShippedModel, DecodeMapsWithinTheBuffersOfTheCoupled910) {
  check_model(k910, GetParam(), workloads::Phase::decode);
}

INSTANTIATE_TEST_SUITE_P(Buffers, ShippedModel, ::testing::ValuesIn(shipped_models()),
                         [](const ::testing::TestParamInfo<std::string>& info) { return model_test_name(info.param); });

TEST(Buffers, EveryShippedModelIsCovered) { EXPECT_GE(shipped_models().size(), 8u); }

// A long prefill makes the vector tiles UB-sized (a 128-token one never
// fills a tile), which is where a multi-operation pass once overflowed UB.
TEST(Buffers, ALongPrefillMapsWithinTheBuffersOf910B2) {
  const HwConfig hw = load_hw_config(source_path("configs/hw/ascend-910b2.yaml"));
  const auto view = run_machine_view(hw);
  EXPECT_GT(check_jobs(source_path("configs/models/llama-2-7b.yaml"), workloads::Phase::prefill, 2048, 1, view,
                       hw.machine.core),
            300u);
}

TEST(Buffers, DataflowPipelinesOfShippedGraphsFit) {
  const HwConfig hw = load_hw_config(source_path("configs/hw/ascend-910b2.yaml"));
  const auto view = run_machine_view(hw);
  workloads::WorkloadParams params;
  params.phase = workloads::Phase::prefill;
  const auto w = workloads::build_workload_from_file(source_path("tests/data/mapper/mlp-chain-small.yaml"), params);
  const auto d = mapper::map_dataflow(w.graphs.front(), view);
  ASSERT_TRUE(d.applies) << d.reason;
  EXPECT_NO_THROW(check_loads(d.program, hw.machine.core));
}

}  // namespace
}  // namespace npusim::test
