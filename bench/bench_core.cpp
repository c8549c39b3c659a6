// Speed of the AI core model: 24 core groups (A2 split, AIC + 2 AIV) run a
// long double-buffered GEMM on the AICs against the fixed-rate memory.
// Prints simulated instructions and SystemC process activations per second
// of wall time. Usage: bench_core [iterations per core, default 4000]
#include <chrono>
#include <ctime>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include <systemc>

#include "arch/core/ai_core.h"
#include "arch/core/test_memory.h"
#include "tests/arch/core_test_support.h"

using namespace npusim;
using namespace npusim::arch;

int sc_main(int argc, char** argv) {
  const int iterations = argc > 1 ? std::atoi(argv[1]) : 4000;
  const CoreConfig config = test::config_from_yaml("{}");
  const int groups = static_cast<int>(config.cube_cores);

  FixedRateMemory memory("hbm", 100'000, 1.6e12);
  std::vector<std::unique_ptr<CrossCoreFlags>> flags;
  std::vector<std::unique_ptr<AiCore>> cores;
  for (int g = 0; g < groups; ++g) {
    flags.push_back(std::make_unique<CrossCoreFlags>(static_cast<int>(config.cores_per_group()), config.event_ids));
    const std::string aic = "aic" + std::to_string(g);
    cores.push_back(std::make_unique<AiCore>(aic.c_str(), config, CoreRole::cube, static_cast<int>(cores.size()), 0,
                                             *flags.back()));
    for (std::uint32_t v = 1; v <= config.vector_cores_per_cube; ++v) {
      const std::string aiv = "aiv" + std::to_string(g * config.vector_cores_per_cube + v - 1);
      cores.push_back(std::make_unique<AiCore>(aiv.c_str(), config, CoreRole::vector, static_cast<int>(cores.size()),
                                               static_cast<int>(v), *flags.back()));
    }
  }
  for (auto& c : cores) c->gm_socket.bind(memory.socket);

  const test::GemmTile tile;
  std::uint64_t instructions = 0;
  for (auto& c : cores) {
    if (c->role() != CoreRole::cube) continue;
    c->load(test::double_buffered_gemm(tile, iterations, static_cast<std::uint64_t>(c->global_index()) << 32));
    instructions += c->program_size();
  }

  const auto start = std::chrono::steady_clock::now();
  const std::clock_t cpu_start = std::clock();
  sc_core::sc_start();
  const double cpu = double(std::clock() - cpu_start) / CLOCKS_PER_SEC;
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  std::vector<const AiCore*> all;
  std::uint64_t activations = 0, macs = 0;
  for (auto& c : cores) {
    all.push_back(c.get());
    activations += c->stats().value("process_activations");
    macs += c->stats().value("macs_fp16");
  }
  throw_if_unfinished(all);
  const double sim_s = sc_core::sc_time_stamp().to_seconds();
  std::printf("bench_core: %d AICs x %d double-buffered %ux%ux%u fp16 iterations (+%zu idle AIVs)\n", groups,
              iterations, tile.m, tile.k, tile.n, cores.size() - groups);
  std::printf("  simulated %.3f ms, %.1f TFLOPS achieved, memory read %.2f GB\n", sim_s * 1e3,
              2.0 * double(macs) / sim_s / 1e12, double(memory.bytes_read()) / 1e9);
  std::printf("  wall %.3f s: %.2f M instructions/s, %.2f M activations/s, %.2f activations/instruction\n", wall,
              double(instructions) / wall / 1e6, double(activations) / wall / 1e6,
              double(activations) / double(instructions));
  // Wall time includes other processes on a shared machine; CPU time does not.
  std::printf("  cpu  %.3f s: %.2f M instructions/s, %.2f M activations/s\n", cpu, double(instructions) / cpu / 1e6,
              double(activations) / cpu / 1e6);
  return 0;
}
