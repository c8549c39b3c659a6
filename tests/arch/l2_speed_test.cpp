// Wall-clock cost of the NoC + L2 calculators on the lead's speed target: a
// 16 GiB sequential read stream through crossbar -> 192 MiB L2 cache -> a
// fixed-rate HBM stand-in at 1.6 TB/s. The bound is loose (machines are
// shared); the measured figure is printed for the record.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>

#include "sim/config/block_resolvers.h"
#include "arch/l2/l2.h"
#include "arch/noc/noc.h"
#include "support/fixed_rate_memory.h"
#include "support/probe_initiator.h"

namespace npusim::arch {
namespace {

TEST(L2Speed, SixteenGiBStreamThroughNocAndCache) {
  const auto noc_config = resolve_noc_config(
      ConfigNode::load_string("impl: crossbar\nclock: 1.8 GHz\ncore_read_bandwidth: 80 B/cycle\n"
                              "core_write_bandwidth: 80 B/cycle\ntargets:\n"
                              "  l2: {tiers: [hbm], bandwidth: 4444 B/cycle}\n",
                              "speed.yaml"),
      1);
  const auto l2_config = resolve_l2_config(ConfigNode::load_string("impl: cache\n", "speed.yaml"));
  Noc noc("noc", noc_config);
  L2 l2("l2", l2_config);
  test::FixedRateMemory hbm("hbm", 1.6e12, 100'000);
  test::ProbeInitiator core("core0");
  core.out.bind(noc.core_socket(0));
  noc.target_socket("l2").bind(l2.in);
  l2.to_memory.bind(hbm.in);

  const Bytes total = 16 * GiB, chunk = 64 * KiB;
  hbm.requests.reserve(total / chunk);
  core.script = [&](test::ProbeInitiator& p) { p.stream(false, kHbmBase, total, chunk); };
  const auto start = std::chrono::steady_clock::now();
  sc_core::sc_start();
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("16 GiB in %llu requests of 64 KiB: %.3f s wall, %.3f ms simulated\n",
              static_cast<unsigned long long>(total / chunk), wall, ticks_to_seconds(core.finished) * 1e3);

  EXPECT_EQ(hbm.bytes_read, total);
  EXPECT_EQ(l2.stats().value("misses"), total / l2_config.line_bytes);
  EXPECT_EQ(noc.stats().value("l2.out.bytes"), total);
  EXPECT_LT(wall, 20.0);
}

}  // namespace
}  // namespace npusim::arch
