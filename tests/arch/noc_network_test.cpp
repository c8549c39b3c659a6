// Timing probes of the network calculator alone (no SystemC kernel): every
// expected time is the closed form of network.h computed from the configured
// values, never a number read off a run.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "sim/config/block_resolvers.h"
#include "arch/noc/network.h"
#include "arch/noc/noc_config.h"
#include "common/error.h"

namespace npusim::arch {
namespace {

// 1 GHz, so one cycle is 1000 ps and B/cycle equals GB/s.
constexpr Tick kCycle = 1000;
constexpr Cycles kHop = 3;
constexpr Bytes kPacket = 256;

NocConfig crossbar(int cores, const std::string& ports, const std::string& core_bw = "64 B/cycle") {
  const std::string yaml = "impl: crossbar\nclock: 1 GHz\nhop_latency_cycles: " + std::to_string(kHop) +
                           "\npacket_size: " + std::to_string(kPacket) + " B\ncore_read_bandwidth: " + core_bw +
                           "\ncore_write_bandwidth: " + core_bw + "\ntargets:\n" + ports;
  return resolve_noc_config(ConfigNode::load_string(yaml, "test.yaml"), cores);
}

constexpr const char* kOnePort = "  hbm: {tiers: [hbm], bandwidth: 64 B/cycle}\n";

std::vector<int> to_target(const Network& n, int core, int port) {
  std::vector<int> r;
  n.topology().route_to_target(core, port, r);
  return r;
}

std::vector<std::string> names(const Network& n, const std::vector<int>& route) {
  std::vector<std::string> out;
  for (int i : route) out.push_back(n.topology().links()[static_cast<std::size_t>(i)].name);
  return out;
}

TEST(NocNetwork, SingleTransferIsHopsTimesLatencyPlusSerialisation) {
  Network net(crossbar(1, kOnePort));
  const Bytes bytes = 64 * KiB;
  const auto route = to_target(net, 0, 0);
  ASSERT_EQ(route.size(), 2u);
  const Tick expected = route.size() * kHop * kCycle + bytes / 64 * kCycle + (route.size() - 1) * kPacket / 64 * kCycle;
  EXPECT_EQ(net.transfer(route, bytes, 0, 0, 0), expected);
}

TEST(NocNetwork, SlowestLinkSetsTheRateAndOthersAddOnePacket) {
  Network net(crossbar(1, kOnePort, "32 B/cycle"));
  const Bytes bytes = 64 * KiB;
  const Tick expected = 2 * kHop * kCycle + bytes / 32 * kCycle + kPacket / 64 * kCycle;
  EXPECT_EQ(net.transfer(to_target(net, 0, 0), bytes, 0, 0, 0), expected);
}

TEST(NocNetwork, TransferSmallerThanAPacketIsOnePacket) {
  Network net(crossbar(1, kOnePort));
  EXPECT_EQ(net.transfer(to_target(net, 0, 0), 64, 0, 0, 0), 2 * kHop * kCycle + 2 * (64 / 64) * kCycle);
}

TEST(NocNetwork, CoresSharingATargetPortSerialise) {
  constexpr int k = 4;
  Network net(crossbar(k, kOnePort));
  const Bytes bytes = 64 * KiB;
  Tick last = 0;
  for (int c = 0; c < k; ++c) last = net.transfer(to_target(net, c, 0), bytes, 0, 0, 0);
  // The port link carries the k transfers back to back after the first head arrives.
  EXPECT_EQ(last, 2 * kHop * kCycle + kPacket / 64 * kCycle + k * (bytes / 64) * kCycle);
  EXPECT_EQ(net.stats().value("hbm.in.bytes"), k * bytes);
  EXPECT_EQ(net.stats().value("hbm.in.busy"), k * bytes / 64 * kCycle);
  EXPECT_GT(net.stats().value("hbm.in.stall"), 0u);
  EXPECT_EQ(net.stats().value("core0.up.stall"), 0u);
}

TEST(NocNetwork, CoresOnDisjointPortsOverlap) {
  Network net(crossbar(2, std::string(kOnePort) + "  ddr: {tiers: [ddr], bandwidth: 64 B/cycle}\n"));
  const Bytes bytes = 64 * KiB;
  const Tick alone = 2 * kHop * kCycle + bytes / 64 * kCycle + kPacket / 64 * kCycle;
  EXPECT_EQ(net.transfer(to_target(net, 0, 0), bytes, 0, 0, 0), alone);
  EXPECT_EQ(net.transfer(to_target(net, 1, 1), bytes, 0, 0, 0), alone);
}

TEST(NocNetwork, ShortTransferUsesGapBeforeALateBooking) {
  Network net(crossbar(2, kOnePort));
  std::vector<int> down0, down1;
  net.topology().route_to_core(0, 0, down0);
  net.topology().route_to_core(0, 1, down1);
  // Core 0's data leaves a slow memory late; core 1's short read must not queue behind it.
  const Tick late = 1'000'000 * kCycle;
  net.transfer(down0, 4 * KiB, 0, 0, late);
  const Tick short_read = net.transfer(down1, 4 * KiB, 0, 0, 0);
  EXPECT_EQ(short_read, 2 * kHop * kCycle + 4 * KiB / 64 * kCycle + kPacket / 64 * kCycle);
}

TEST(NocNetwork, StreamedReadFollowsTheMemoryTail) {
  Network net(crossbar(1, kOnePort));
  std::vector<int> down;
  net.topology().route_to_core(0, 0, down);
  const Tick tail = 50'000 * kCycle;  // memory delivers its last byte here, long after the links could
  EXPECT_EQ(net.transfer(down, 64 * KiB, 0, 0, tail), tail + 2 * (kPacket / 64 * kCycle + kHop * kCycle));
}

NocConfig mesh(int cols, int rows, int cores, const std::string& ports, const std::string& link_bw = "64 B/cycle") {
  const std::string yaml = "impl: mesh\nclock: 1 GHz\nhop_latency_cycles: " + std::to_string(kHop) +
                           "\npacket_size: " + std::to_string(kPacket) + " B\nmesh_cols: " + std::to_string(cols) +
                           "\nmesh_rows: " + std::to_string(rows) + "\nlink_bandwidth: " + link_bw +
                           "\ncore_read_bandwidth: 64 B/cycle\ncore_write_bandwidth: 64 B/cycle\ntargets:\n" + ports;
  return resolve_noc_config(ConfigNode::load_string(yaml, "test.yaml"), cores);
}

TEST(NocMesh, XYRouteGoesAlongTheRowThenTheColumn) {
  Network net(mesh(4, 4, 16, "  hbm: {tiers: [hbm], bandwidth: 64 B/cycle, node: 15}\n"));
  EXPECT_EQ(names(net, to_target(net, 0, 0)),
            (std::vector<std::string>{"core0.inject", "r0c0>r0c1", "r0c1>r0c2", "r0c2>r0c3", "r0c3>r1c3",
                                      "r1c3>r2c3", "r2c3>r3c3", "hbm.in"}));
  std::vector<int> back;
  net.topology().route_to_core(0, 5, back);
  EXPECT_EQ(names(net, back), (std::vector<std::string>{"hbm.out", "r3c3>r3c2", "r3c2>r3c1", "r3c1>r2c1",
                                                        "r2c1>r1c1", "core5.eject"}));
}

TEST(NocMesh, HopCountIsManhattanDistance) {
  const int cols = 5, rows = 3;
  const int port_node = 7;  // r1c2
  Network net(mesh(cols, rows, cols * rows, "  hbm: {tiers: [hbm], bandwidth: 64 B/cycle, node: 7}\n"));
  for (int core = 0; core < cols * rows; ++core) {
    const int hops = std::abs(core % cols - port_node % cols) + std::abs(core / cols - port_node / cols);
    EXPECT_EQ(to_target(net, core, 0).size(), static_cast<std::size_t>(hops + 2)) << "core " << core;
    std::vector<int> back;
    net.topology().route_to_core(0, core, back);
    EXPECT_EQ(back.size(), static_cast<std::size_t>(hops + 2)) << "core " << core;
  }
}

TEST(NocMesh, LatencyGrowsByOneHopPerRouter) {
  Network net(mesh(4, 1, 4, "  hbm: {tiers: [hbm], bandwidth: 64 B/cycle, node: 3}\n"));
  const Bytes bytes = 16 * KiB;
  for (int core = 0; core < 4; ++core) {
    Network fresh(net.config());
    const Tick links = static_cast<Tick>(2 + 3 - core);
    const Tick expected = links * kHop * kCycle + bytes / 64 * kCycle + (links - 1) * kPacket / 64 * kCycle;
    EXPECT_EQ(fresh.transfer(to_target(fresh, core, 0), bytes, 0, 0, 0), expected) << "core " << core;
  }
}

TEST(NocMesh, SharedRowLinkSerialisesDisjointRowsOverlap) {
  // Router links at half the port rate, so the mesh is the bottleneck.
  const std::string ports =
      "  hbm: {tiers: [hbm], bandwidth: 64 B/cycle, node: 3}\n  ddr: {tiers: [ddr], bandwidth: 64 B/cycle, node: 7}\n";
  const Bytes bytes = 64 * KiB;
  const Tick serial = bytes / 32 * kCycle;
  {
    Network net(mesh(4, 2, 8, ports, "32 B/cycle"));
    const Tick a = net.transfer(to_target(net, 0, 0), bytes, 0, 0, 0);  // row 0 to hbm
    const Tick b = net.transfer(to_target(net, 4, 1), bytes, 0, 0, 0);  // row 1 to ddr
    EXPECT_EQ(a, b);
    EXPECT_LT(a, serial * 3 / 2);
  }
  {
    Network net(mesh(4, 2, 8, ports, "32 B/cycle"));
    const Tick a = net.transfer(to_target(net, 0, 0), bytes, 0, 0, 0);
    const Tick b = net.transfer(to_target(net, 1, 0), bytes, 0, 0, 0);  // shares r0c1>r0c2, r0c2>r0c3
    EXPECT_GE(b, a + serial);
    EXPECT_GT(net.stats().value("r0c1>r0c2.stall"), 0u);
  }
}

// A port attached at two corners: each core takes the nearer one, each
// attach link carries half the port's bandwidth, and two cores at opposite
// corners stream in parallel where a single attach point would serialise them.
TEST(NocMesh, MultiAttachPortRoutesToTheNearestAttachPointAndSplitsItsBandwidth) {
  const std::string two = "  hbm: {tiers: [hbm], bandwidth: 128 B/cycle, node: [0, 15]}\n";
  Network net(mesh(4, 4, 16, two, "256 B/cycle"));
  EXPECT_EQ(names(net, to_target(net, 1, 0)), (std::vector<std::string>{"core1.inject", "r0c1>r0c0", "hbm@r0c0.in"}));
  EXPECT_EQ(names(net, to_target(net, 14, 0)),
            (std::vector<std::string>{"core14.inject", "r3c2>r3c3", "hbm@r3c3.in"}));
  std::vector<int> back;
  net.topology().route_to_core(0, 11, back);
  EXPECT_EQ(names(net, back), (std::vector<std::string>{"hbm@r3c3.out", "r3c3>r2c3", "core11.eject"}));
  for (const auto& link : net.topology().links()) {
    if (link.name.rfind("hbm@", 0) == 0) {
      EXPECT_DOUBLE_EQ(link.bytes_per_cycle, 64.0) << link.name;
    }
  }

  // Cores 0 and 15 each read 64 KiB: 64 B/cycle per attach link, in parallel.
  const Bytes bytes = 64 * KiB;
  std::vector<int> to0, to15;
  net.topology().route_to_core(0, 0, to0);
  net.topology().route_to_core(0, 15, to15);
  const Tick a = net.transfer(to0, bytes, 0, 0, 0);
  const Tick b = net.transfer(to15, bytes, 0, 0, 0);
  EXPECT_EQ(a, b);
  EXPECT_LT(b, 2 * bytes / 64 * kCycle);

  try {
    mesh(4, 4, 16, "  hbm: {tiers: [hbm], bandwidth: 128 B/cycle, node: [0, 0]}\n");
    FAIL() << "a repeated attach router was accepted";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("not already listed"), std::string::npos) << e.what();
  }
  EXPECT_THROW(mesh(4, 4, 16, "  hbm: {tiers: [hbm], bandwidth: 128 B/cycle, node: [0, 16]}\n"), InputError);
}

TEST(NocConfigTest, EveryRegisteredTopologyBuildsAndRoutes) {
  for (const auto& name : TopologyRegistry::instance().names()) {
    NocConfig c = mesh(2, 2, 4, "  l2: {tiers: [hbm, sram], bandwidth: 128 B/cycle, node: 3}\n");
    c.impl = name;
    Network net(c);
    for (int core = 0; core < 4; ++core) {
      EXPECT_GT(net.transfer(to_target(net, core, 0), 4 * KiB, 0, 0, 0), 0u) << name;
    }
  }
  EXPECT_TRUE(TopologyRegistry::instance().contains("crossbar"));
  EXPECT_TRUE(TopologyRegistry::instance().contains("mesh"));
}

TEST(NocConfigTest, RoutesTiersToPortsAndAcceptsRates) {
  const auto c = crossbar(2, "  l2: {tiers: [hbm], bandwidth: 410 GB/s}\n  sram: {tiers: [sram], bandwidth: 8 B/cycle}\n");
  EXPECT_EQ(c.port_for(Tier::hbm), 0);
  EXPECT_EQ(c.port_for(Tier::sram), 1);
  EXPECT_EQ(c.port_for(Tier::ddr), -1);
  EXPECT_DOUBLE_EQ(c.targets[0].bytes_per_cycle, 410.0);
}

void expect_input_error(const std::string& ports, const std::string& fragment) {
  try {
    crossbar(1, ports);
    FAIL() << "expected an InputError mentioning " << fragment;
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
  }
}

TEST(NocConfigTest, RejectsBadPortsWithTheirLocation) {
  expect_input_error("  hbm: {tiers: [hbm], bandwidth: 64 B/cycle}\n  l2: {tiers: [hbm], bandwidth: 64 B/cycle}\n",
                     "already routed to port 'hbm'");
  expect_input_error("  hbm: {tiers: [hbm], bandwidth: 64}\n", "test.yaml:");
  expect_input_error("  hbm: {tiers: [hbm], bandwidth: 64 B/cycle}\n  cache: {tiers: [ddr], bandwidth: 1 B/cycle}\n",
                     "unknown key 'cache'");
  expect_input_error("  hbm: {tiers: [flash], bandwidth: 64 B/cycle}\n", "sram | hbm | ddr");
}

}  // namespace
}  // namespace npusim::arch
