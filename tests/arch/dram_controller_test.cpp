// Whole-tier behaviour through DramController (no SystemC): address
// decoding, streaming and random bandwidth, refresh cost. Bounds are derived
// from the configured timings.
#include <algorithm>
#include <random>
#include <string>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "sim/config/block_resolvers.h"
#include "arch/memory/dram/dram_controller.h"
#include "common/config_node.h"

namespace npusim::arch::dram {
namespace {

DramConfig config_from(const std::string& yaml) {
  return resolve_dram_config(ConfigNode::load_string(yaml, "controller_test.yaml"));
}

// Fraction of peak bandwidth that `bytes` delivered by cycle `done` achieve.
double fraction_of_peak(const DramConfig& c, std::uint64_t bytes, Cycles done) {
  const double seconds = static_cast<double>(done) / c.device.clock_hz;
  return static_cast<double>(bytes) / seconds / c.peak_bandwidth_Bps();
}

Cycles stream(DramController& dram, std::uint64_t bytes, std::uint64_t transfer) {
  Cycles done = 0;
  for (std::uint64_t a = 0; a < bytes; a += transfer) done = std::max(done, dram.access(a, transfer, false, 0));
  return done;
}

TEST(DramMapping, DecodesFieldsInDocumentedOrder) {
  // HBM2E, 2 pseudo-channels, 16 banks (4 BG x 4), 1 KiB page, 32 B bursts.
  const DramConfig c = config_from(
      "preset: HBM2E\nchannels: 1\ncapacity: 1 GiB\naddress_mapping: RoBaBgCoCh\ninterleave: 256 B\n");
  const AddressMapping m(c);
  const std::uint64_t granule = 256;
  const std::uint32_t bursts_per_granule = 256 / 32;
  const std::uint64_t columns = 1024 / granule;  // Co values
  const std::uint64_t pcs = 2;
  const std::uint64_t groups = 4;
  const std::uint64_t banks = 4;

  EXPECT_EQ(m.decode(0).pseudo_channel, 0u);
  EXPECT_EQ(m.decode(32).column, 1u);  // inside a granule, bursts are columns
  EXPECT_EQ(m.decode(granule).pseudo_channel, 1u);
  EXPECT_EQ(m.decode(granule * pcs).column, bursts_per_granule);
  EXPECT_EQ(m.decode(granule * pcs).pseudo_channel, 0u);
  const std::uint64_t row_set = granule * pcs * columns;
  EXPECT_EQ(m.decode(row_set).bank_group, 1u);
  EXPECT_EQ(m.decode(row_set).column, 0u);
  EXPECT_EQ(m.decode(row_set * groups).bank, 1u);
  EXPECT_EQ(m.decode(row_set * groups * banks).row, 1u);
  const DramCoordinate all = m.decode(5 * row_set * groups * banks + 3 * row_set * groups + 2 * row_set + granule * 3 + 64);
  EXPECT_EQ(all.row, 5u);
  EXPECT_EQ(all.bank, 3u);
  EXPECT_EQ(all.bank_group, 2u);
  EXPECT_EQ(all.pseudo_channel, 1u);
  EXPECT_EQ(all.column, 1 * bursts_per_granule + 2);

  std::mt19937_64 rng(7);
  for (int i = 0; i < 1000; ++i) {
    const std::uint64_t a = (rng() % c.capacity) & ~std::uint64_t{31};
    EXPECT_EQ(m.encode(m.decode(a)), a);
  }
}

TEST(DramMapping, ChannelOnTopKeepsRowsContiguous) {
  const DramConfig c = config_from(
      "preset: HBM2E\nchannels: 1\ncapacity: 1 GiB\naddress_mapping: ChRoBaBgCo\ninterleave: 256 B\n");
  const AddressMapping m(c);
  EXPECT_EQ(m.decode(256).pseudo_channel, 0u);
  EXPECT_EQ(m.decode(256).column, 8u);
  EXPECT_EQ(m.decode(1024).bank_group, 1u);
  EXPECT_EQ(m.decode(c.capacity / 2).pseudo_channel, 1u);
}

TEST(DramController, TransferBecomesOneRowRequestPerRowTouched) {
  const DramConfig c = config_from(
      "preset: HBM2E\nchannels: 8\ncapacity: 4 GiB\naddress_mapping: RoBaBgCoCh\ninterleave: 256 B\nrefresh: false\n");
  DramController dram(c, "hbm");
  // 64 KiB over 16 pseudo-channels of 1 KiB rows: 4 rows each.
  dram.access(0, 64 * KiB, false, 0);
  EXPECT_EQ(dram.stats().row_accesses.value, 64 * KiB / c.device.org.page_bytes);
  EXPECT_EQ(dram.stats().reads.value, 64 * KiB / c.burst_bytes());
  // An unaligned 100-byte read touching two bursts of one granule.
  dram.access(4 * MiB + 20, 50, false, 0);
  EXPECT_EQ(dram.stats().reads.value, 64 * KiB / c.burst_bytes() + 3);  // bytes 20..69 span bursts 0, 1, 2
}

TEST(DramController, SequentialStreamReachesNinetyPercentOfPeak) {
  for (const std::string preset : {"HBM2E", "HBM3", "DDR5-4800", "LPDDR4X-4266"}) {
    SCOPED_TRACE(preset);
    const DramConfig c = config_from(fmt::format("preset: {}\nchannels: 8\ncapacity: 8 GiB\n", preset));
    DramController dram(c, "dram");
    const std::uint64_t bytes = 64 * MiB;
    const Cycles done = stream(dram, bytes, 64 * KiB);
    const double achieved = fraction_of_peak(c, bytes, done);
    const DramTimings& t = c.device.timings;
    // Refresh alone takes tRFC of every tREFI.
    const double ceiling = 1.0 - static_cast<double>(t.tRFC) / t.tREFI;
    EXPECT_GE(achieved, 0.90);
    EXPECT_LE(achieved, ceiling + 1e-3);
    EXPECT_NEAR(dram.stats().bus_utilization(), achieved, 1e-3);
  }
}

TEST(DramController, RandomSixtyFourByteReadsAreActivateBound) {
  const DramConfig c = config_from("preset: HBM2E\nchannels: 8\ncapacity: 8 GiB\nrefresh: false\n");
  const DramTimings& t = c.device.timings;
  DramController dram(c, "hbm");
  std::mt19937_64 rng(1);
  const int requests = 200'000;
  Cycles done = 0;
  for (int i = 0; i < requests; ++i) {
    const std::uint64_t a = (rng() % c.capacity) & ~std::uint64_t{63};
    done = std::max(done, dram.access(a, 64, false, 0));
  }
  const double achieved = fraction_of_peak(c, 64ull * requests, done);
  // Almost every request opens a row. Per pseudo-channel an ACT can issue
  // no more often than max(tRRD_S, tFAW / 4), and never less often than once
  // per tRC (all requests in one bank); each carries 64 B = two bursts.
  const double bus_cycles = 64.0 / c.burst_bytes() * c.device.burst_cycles();
  const double act_interval = std::max<double>(t.tRRD_S, t.tFAW / 4.0);
  const double upper = bus_cycles / act_interval;
  const double lower = bus_cycles / t.tRC;
  EXPECT_LE(achieved, upper + 1e-9);
  EXPECT_GE(achieved, lower);
  EXPECT_LT(achieved, 0.5);
  const auto& s = dram.stats();
  EXPECT_GT(s.row_conflicts.value + s.row_misses.value, 0.99 * requests);
}

TEST(DramController, RefreshTakesTrfcOverTrefiOfBandwidth) {
  for (const std::string preset : {"HBM2E", "DDR5-4800"}) {
    SCOPED_TRACE(preset);
    const std::string base = fmt::format("preset: {}\nchannels: 2\ncapacity: 8 GiB\n", preset);
    const DramConfig on = config_from(base + "refresh: true\n");
    const DramConfig off = config_from(base + "refresh: false\n");
    const DramTimings& t = on.device.timings;
    DramController with(on, "on");
    DramController without(off, "off");
    const std::uint64_t bytes = 256 * MiB;
    const Cycles t_on = stream(with, bytes, 64 * KiB);
    const Cycles t_off = stream(without, bytes, 64 * KiB);
    const double lost = 1.0 - static_cast<double>(t_off) / static_cast<double>(t_on);
    // Each refresh idles the bus for tRFC, plus draining the open rows before
    // it (tRTP + tRP) and re-opening one after it (tRCD), less the one burst
    // slot the drain overlaps.
    const double per_refresh_min = t.tRFC;
    const double per_refresh_max = t.tRFC + t.tRTP + t.tRP + t.tRCD;
    EXPECT_GE(lost, per_refresh_min / t.tREFI * 0.98);
    EXPECT_LE(lost, per_refresh_max / t.tREFI * 1.02);
    const double refreshes_expected = static_cast<double>(t_on) / t.tREFI * on.pseudo_channels();
    EXPECT_NEAR(static_cast<double>(with.stats().refreshes.value), refreshes_expected,
                on.pseudo_channels() * 1.0 + 0.01 * refreshes_expected);
  }
}

TEST(DramController, WritesAreCountedAndTimed) {
  const DramConfig c = config_from("preset: DDR5-4800\nchannels: 1\ncapacity: 8 GiB\nrefresh: false\n");
  DramController dram(c, "ddr");
  const Cycles done = dram.access(0, 64, true, 0);
  const DramTimings& t = c.device.timings;
  EXPECT_EQ(done, t.tRCDWR + t.CWL + c.device.burst_cycles());
  EXPECT_EQ(dram.stats().writes.value, 1u);
  EXPECT_EQ(dram.stats().bytes_written.value, 64u);
}

}  // namespace
}  // namespace npusim::arch::dram
