// Every GM access of a vector-core program lands inside a tensor the
// placement put there: an op with several outputs (TopK's weights and ids,
// an MoE dispatch's per-expert inputs) writes each output's own bytes, and an
// op that reads more than its first input (an embedding gathers table rows)
// does not read past it. Before, such runs ran off the end of a full HBM
// (Mixtral-8x7B and Llama-2-70B prefill on ascend-910b2-ddr).
#include <gtest/gtest.h>

#include <vector>
#include <string>

#include "mapper/kernel_mapper.h"
#include "sim/config/hw_config.h"
#include "sim/run/mapper_setup.h"
#include "support/test_paths.h"
#include "workloads/workload.h"

namespace npusim::test {
namespace {

TEST(VectorExtent, EveryVectorGmAccessOfAnMoePrefillLiesInsideAPlacedTensor) {
  workloads::WorkloadParams params;
  params.phase = workloads::Phase::prefill;
  params.seq = 256;
  const auto w = workloads::build_workload_from_file(source_path("configs/models/qwen1.5-moe-a2.7b.yaml"), params);
  const auto& g = w.graphs.front();
  const auto view = run_machine_view(load_hw_config(source_path("configs/hw/ascend-910b2.yaml")));
  mapper::GemmTilingCache cache;
  std::vector<mapper::Job> jobs;
  const auto placement =
      mapper::for_each_kernel_job(g, view, cache, {}, [&](mapper::Job& job) { jobs.push_back(std::move(job)); });
  auto inside = [&](const std::vector<workloads::TensorId>& tensors, std::uint64_t address, std::uint64_t bytes) {
    for (auto id : tensors) {
      const auto start = placement.tensors.at(id).address;
      if (address >= start && address + bytes <= start + g.tensor(id).bytes()) return true;
    }
    return false;
  };
  std::size_t accesses = 0, multi_output_ops = 0;
  for (const auto& job : jobs) {
    const auto& op = g.op(job.op);
    multi_output_ops += op.outputs.size() > 1;
    for (const auto& core : job.program.vector_cores) {
      for (const auto& in : core.instructions) {
        if (in.op == arch::Opcode::load && in.src == arch::Buffer::gm) {
          ++accesses;
          EXPECT_TRUE(inside(op.inputs, in.gm_address, in.bytes))
              << job.name << ": a " << in.bytes << " B read at " << in.gm_address << " is outside its inputs";
        } else if (in.op == arch::Opcode::store && in.dst == arch::Buffer::gm) {
          ++accesses;
          EXPECT_TRUE(inside(op.outputs, in.gm_address, in.bytes))
              << job.name << ": a " << in.bytes << " B write at " << in.gm_address << " is outside its outputs";
        }
      }
    }
  }
  EXPECT_GT(accesses, 0u);
  EXPECT_GT(multi_output_ops, 0u) << "the model has TopK and dispatch ops with several outputs";
}

}  // namespace
}  // namespace npusim::test
