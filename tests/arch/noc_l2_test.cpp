// The NoC in front of an L2 cache in front of HBM, as on the 910B: the
// request, the L2's answer and the streamed return compose as noc.h says.
// 1 GHz everywhere; core ports 128 B/cycle, L2 port and L2 banks 512 B/cycle,
// HBM 102.4 GB/s (5:1 below the L2).
#include <gtest/gtest.h>

#include "sim/config/block_resolvers.h"
#include "arch/l2/l2.h"
#include "arch/noc/noc.h"
#include "common/error.h"
#include "support/fixed_rate_memory.h"
#include "support/probe_initiator.h"

namespace npusim::arch {
namespace {

constexpr Tick kCycle = 1000;
constexpr Tick kHop = 3 * kCycle;
constexpr Tick kL2Latency = 20 * kCycle;
constexpr Tick kHbmLatency = 100'000;

struct Chip {
  Noc noc;
  L2 l2;
  test::FixedRateMemory hbm;
  test::ProbeInitiator core;

  Chip()
      : noc("noc", resolve_noc_config(
                       ConfigNode::load_string(
                           "impl: crossbar\nclock: 1 GHz\nhop_latency_cycles: 3\npacket_size: 256 B\n"
                           "core_read_bandwidth: 128 B/cycle\ncore_write_bandwidth: 128 B/cycle\n"
                           "targets:\n  l2: {tiers: [hbm], bandwidth: 512 B/cycle}\n",
                           "chip.yaml"),
                       1)),
        l2("l2", resolve_l2_config(ConfigNode::load_string(
                     "impl: cache\nclock: 1 GHz\ncapacity: 1 MiB\nline_size: 128 B\ntag_block: 8 KiB\nways: 4\n"
                     "banks: 8\nbandwidth: 512 B/cycle\nlatency_cycles: 20\n",
                     "chip.yaml"))),
        hbm("hbm", 102.4e9, kHbmLatency),
        core("core0") {
    core.out.bind(noc.core_socket(0));
    noc.target_socket("l2").bind(l2.in);
    l2.to_memory.bind(hbm.in);
  }
};

TEST(NocL2, HitIsBoundByTheCorePortMissByTheHbmStream) {
  Chip chip;
  const Bytes bytes = 64 * KiB;
  Tick miss = 0, hit = 0;
  chip.core.script = [&](test::ProbeInitiator& p) {
    miss = p.read(kHbmBase, bytes);
    hit = p.read(kHbmBase, bytes);
  };
  sc_core::sc_start();
  const Tick header = 2 * kHop;
  const Tick l2_port_packet = 256 * kCycle / 512, core_port_packet = 256 * kCycle / 128;
  // Hit: the L2 answers faster than the core port drains, so the core port
  // link sets the pace from the moment the head reaches it.
  EXPECT_EQ(hit, header + l2_port_packet + kHop + bytes / 128 * kCycle + kHop);
  // Miss: the tail of the HBM stream, through the L2, then one packet per hop.
  const Tick l2_miss = kHbmLatency + chip.hbm.transfer_ticks(bytes) + kL2Latency;
  EXPECT_EQ(miss, header + l2_miss + l2_port_packet + kHop + core_port_packet + kHop);
  EXPECT_EQ(chip.l2.stats().value("hits"), bytes / 128);
  EXPECT_EQ(chip.noc.stats().value("core0.down.bytes"), 2 * bytes);
}

TEST(NocL2, ScratchpadErrorPropagatesAndLeavesThePayloadClean) {
  // An L2 miss path is not needed for this: a scratchpad behind the sram port.
  Noc noc("noc", resolve_noc_config(ConfigNode::load_string(
                                        "impl: mesh\nclock: 1 GHz\nmesh_cols: 2\nmesh_rows: 1\n"
                                        "targets:\n  sram: {tiers: [sram], bandwidth: 256 B/cycle, node: 1}\n",
                                        "chip.yaml"),
                                    1));
  L2 sram("sram", resolve_l2_config(ConfigNode::load_string("impl: scratchpad\ncapacity: 1 MiB\n", "chip.yaml")));
  test::ProbeInitiator core("core0");
  core.out.bind(noc.core_socket(0));
  noc.target_socket("sram").bind(sram.in);
  std::string message;
  Tick ok = 0;
  core.script = [&](test::ProbeInitiator& p) {
    ok = p.read(kSramBase, 4 * KiB);
    try {
      p.read(kSramBase + 2 * MiB, 64);
    } catch (const SimulationError& e) {
      message = e.what();
    }
  };
  sc_core::sc_start();
  EXPECT_GT(ok, 0u);
  EXPECT_NE(message.find("0x400000200000"), std::string::npos) << message;
  EXPECT_EQ(noc.stats().value("core0.eject.bytes"), 4 * KiB);
}

}  // namespace
}  // namespace npusim::arch
