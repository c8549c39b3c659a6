#pragma once
// Elaborates one core group (split: AIC + AIVs; coupled: one core) on a
// fixed-rate memory, for tests that run the SystemC kernel.
#include <memory>
#include <vector>

#include "arch/core/ai_core.h"
#include "arch/core/cross_core_flags.h"
#include "arch/core/test_memory.h"

namespace npusim::arch::test {

inline constexpr Tick kTestMemoryLatency = 100'000;  // 100 ns
inline constexpr double kTestMemoryBandwidth = 1e12;  // 1 TB/s

struct CoreGroupHarness {
  explicit CoreGroupHarness(const CoreConfig& config, Tick latency = kTestMemoryLatency,
                            double bandwidth = kTestMemoryBandwidth)
      : flags(static_cast<int>(config.cores_per_group()), config.event_ids),
        memory("memory", latency, bandwidth) {
    if (config.style == CoreStyle::coupled) {
      cores.push_back(std::make_unique<AiCore>("core0", config, CoreRole::coupled, 0, 0, flags));
    } else {
      cores.push_back(std::make_unique<AiCore>("aic0", config, CoreRole::cube, 0, 0, flags));
      for (std::uint32_t v = 1; v <= config.vector_cores_per_cube; ++v) {
        const std::string name = "aiv" + std::to_string(v - 1);
        cores.push_back(std::make_unique<AiCore>(name.c_str(), config, CoreRole::vector, static_cast<int>(v),
                                                 static_cast<int>(v), flags));
      }
    }
    for (auto& c : cores) c->gm_socket.bind(memory.socket);
  }

  AiCore& aic() { return *cores.at(0); }
  AiCore& aiv(int i) { return *cores.at(1 + i); }
  std::vector<const AiCore*> all() const {
    std::vector<const AiCore*> out;
    for (const auto& c : cores) out.push_back(c.get());
    return out;
  }

  CrossCoreFlags flags;
  FixedRateMemory memory;
  std::vector<std::unique_ptr<AiCore>> cores;
};

}  // namespace npusim::arch::test
