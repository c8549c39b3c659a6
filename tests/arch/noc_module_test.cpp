// Timing probes of the NoC as a TLM block, with fixed-rate memories below it.
// Each TEST elaborates its own model (CTest runs each in a fresh process).
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <utility>
#include <string>
#include <vector>

#include "sim/config/block_resolvers.h"
#include "arch/noc/noc.h"
#include "common/error.h"
#include "support/fixed_rate_memory.h"
#include "support/probe_initiator.h"

namespace npusim::arch {
namespace {

using test::FixedRateMemory;
using test::ProbeInitiator;

constexpr Tick kCycle = 1000;  // 1 GHz
constexpr Cycles kHop = 3;
constexpr Bytes kPacket = 256;
constexpr double kMemRate = 32e9;   // B/s: half the 64 B/cycle links, so the memory is the bottleneck
constexpr Tick kMemLatency = 100'000;  // 100 ns

NocConfig crossbar(int cores, const std::string& ports) {
  const std::string yaml = "impl: crossbar\nclock: 1 GHz\nhop_latency_cycles: 3\npacket_size: 256 B\n"
                           "core_read_bandwidth: 64 B/cycle\ncore_write_bandwidth: 64 B/cycle\ntargets:\n" + ports;
  return resolve_noc_config(ConfigNode::load_string(yaml, "test.yaml"), cores);
}

// Cores bound in order to a NoC, one fixed-rate memory per configured port.
struct Bench {
  Noc noc;
  std::vector<std::unique_ptr<ProbeInitiator>> cores;
  std::vector<std::unique_ptr<FixedRateMemory>> memories;

  Bench(const NocConfig& c, double mem_rate = kMemRate, Tick mem_latency = kMemLatency) : noc("noc", c) {
    for (int i = 0; i < c.cores; ++i) {
      cores.push_back(std::make_unique<ProbeInitiator>(("core" + std::to_string(i)).c_str()));
      cores.back()->out.bind(noc.core_socket(i));
    }
    for (const auto& p : c.targets) {
      memories.push_back(std::make_unique<FixedRateMemory>(("mem_" + p.name).c_str(), mem_rate, mem_latency));
      noc.target_socket(p.name).bind(memories.back()->in);
    }
  }
};

constexpr const char* kHbm = "  hbm: {tiers: [hbm], bandwidth: 64 B/cycle}\n";
constexpr const char* kHbmDdr = "  hbm: {tiers: [hbm], bandwidth: 64 B/cycle}\n  ddr: {tiers: [ddr], bandwidth: 64 B/cycle}\n";

TEST(NocModule, ReadComposesRequestMemoryAndStreamedReturn) {
  Bench b(crossbar(1, kHbm));
  const Bytes bytes = 64 * KiB;
  Tick took = 0;
  b.cores[0]->script = [&](ProbeInitiator& p) { took = p.read(kHbmBase + 4096, bytes); };
  sc_core::sc_start();
  const Tick header = 2 * kHop * kCycle;
  const Tick memory = kMemLatency + b.memories[0]->transfer_ticks(bytes);
  // The data crosses port.out then core.down behind the memory's last byte.
  EXPECT_EQ(took, header + memory + 2 * (kPacket / 64 * kCycle + kHop * kCycle));
}

TEST(NocModule, WriteIsTheLaterOfNetworkDeliveryAndMemory) {
  Bench fast(crossbar(1, kHbm), 1e15);
  const Bytes bytes = 64 * KiB;
  Tick took = 0;
  fast.cores[0]->script = [&](ProbeInitiator& p) { took = p.write(kHbmBase, bytes); };
  sc_core::sc_start();
  const Tick network = 2 * kHop * kCycle + bytes / 64 * kCycle + kPacket / 64 * kCycle;
  const Tick memory = 2 * kHop * kCycle + kMemLatency + fast.memories[0]->transfer_ticks(bytes);
  EXPECT_EQ(took, std::max(network, memory));
  EXPECT_EQ(took, network);  // with a near-infinite memory rate the links set the pace
}

TEST(NocModule, SlowMemorySetsWriteCompletion) {
  Bench b(crossbar(1, kHbm));
  const Bytes bytes = 64 * KiB;
  Tick took = 0;
  b.cores[0]->script = [&](ProbeInitiator& p) { took = p.write(kHbmBase, bytes); };
  sc_core::sc_start();
  EXPECT_EQ(took, 2 * kHop * kCycle + kMemLatency + b.memories[0]->transfer_ticks(bytes));
}

// Core 0 streams alone, then cores 0..k-1 stream together; returns
// {alone, slowest together}. The memories are fast and latency-free so the
// network is the subject.
std::pair<Tick, Tick> alone_then_together(Bench& b, const std::vector<std::uint64_t>& regions) {
  const Bytes bytes = 1 * MiB, chunk = 64 * KiB;
  auto alone = std::make_shared<Tick>(0);
  auto together = std::make_shared<std::vector<Tick>>(regions.size());
  auto go = std::make_shared<sc_core::sc_event>("go");
  for (std::size_t c = 0; c < regions.size(); ++c) {
    b.cores[c]->script = [=](ProbeInitiator& p) {
      if (c == 0) {
        *alone = p.stream(false, regions[0] + 64 * MiB, bytes, chunk);
        go->notify(sc_core::SC_ZERO_TIME);
      }
      sc_core::wait(*go);
      (*together)[c] = p.stream(false, regions[c], bytes, chunk);
    };
  }
  sc_core::sc_start();
  return {*alone, *std::max_element(together->begin(), together->end())};
}

TEST(NocModule, CoresStreamingThroughOneSharedPortTakeKTimesAsLong) {
  constexpr int k = 4;
  Bench b(crossbar(k, kHbm), 1e15, 0);
  const auto [alone, together] = alone_then_together(b, {kHbmBase, kHbmBase + 4 * MiB, kHbmBase + 8 * MiB,
                                                         kHbmBase + 12 * MiB});
  const double ratio = static_cast<double>(together) / static_cast<double>(alone);
  EXPECT_GT(ratio, 0.9 * k);
  EXPECT_LT(ratio, 1.05 * k);
  // The shared link was busy for all k streams and made them wait.
  EXPECT_EQ(b.noc.stats().value("hbm.out.bytes"), (k + 1) * MiB);
  EXPECT_EQ(b.noc.stats().value("hbm.out.busy"), (k + 1) * MiB / 64 * kCycle);
  EXPECT_GT(b.noc.stats().value("hbm.out.stall"), 0u);
  EXPECT_EQ(b.noc.stats().value("hbm.requests"), (k + 1) * MiB / (64 * KiB));
}

TEST(NocModule, CoresOnDisjointPortsOverlap) {
  Bench b(crossbar(2, kHbmDdr), 1e15, 0);
  const auto [alone, together] = alone_then_together(b, {kHbmBase, kDdrBase});
  EXPECT_EQ(together, alone);
  EXPECT_EQ(b.noc.stats().value("hbm.out.stall"), 0u);
  EXPECT_EQ(b.noc.stats().value("ddr.out.stall"), 0u);
}

TEST(NocModule, TagsRequestsWithTheSourceCore) {
  Bench b(crossbar(3, kHbm));
  for (int c = 0; c < 3; ++c) {
    b.cores[static_cast<std::size_t>(c)]->script = [c](ProbeInitiator& p) {
      p.read(kHbmBase + static_cast<Bytes>(c) * 4096, 256);
    };
  }
  sc_core::sc_start();
  ASSERT_EQ(b.memories[0]->requests.size(), 3u);
  for (const auto& r : b.memories[0]->requests) EXPECT_EQ(r.address, kHbmBase + static_cast<Bytes>(r.core) * 4096);
}

TEST(NocModule, UnroutedTierIsAnErrorNamingTheAddress) {
  Bench b(crossbar(1, kHbm));
  std::string message;
  b.cores[0]->script = [&](ProbeInitiator& p) {
    try {
      p.read(kDdrBase + 0x40, 64);
    } catch (const SimulationError& e) {
      message = e.what();
    }
  };
  sc_core::sc_start();
  EXPECT_NE(message.find("0x100000000040"), std::string::npos) << message;
  EXPECT_NE(message.find("ddr"), std::string::npos) << message;
}

}  // namespace
}  // namespace npusim::arch
