// Timing probes of one pseudo-channel calculator, pinned to the closed forms
// of the configured timings. No SystemC.
#include <algorithm>
#include <stdexcept>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "sim/config/block_resolvers.h"
#include "arch/memory/dram/channel_timing.h"
#include "arch/memory/dram/dram_config.h"
#include "arch/memory/dram/dram_scheduler.h"
#include "common/config_node.h"

namespace npusim::arch::dram {
namespace {

DramConfig config_for(const std::string& preset, const std::string& extra = "") {
  const std::string yaml = fmt::format(
      "preset: {}\nchannels: 1\ncapacity: 1 GiB\nrefresh: false\n{}", preset, extra);
  return resolve_dram_config(ConfigNode::load_string(yaml, "timing_test.yaml"));
}

RowRequest read(std::uint32_t bank, std::uint32_t row, Cycles arrival, std::uint32_t bursts = 1) {
  return RowRequest{bank, row, bursts, false, arrival, 0};
}

// Far enough after anything a test did for every constraint to have expired.
constexpr Cycles kLater = 100'000;

TEST(DramTiming, ReadWaitsForTrcdAfterActivate) {
  const DramConfig c = config_for("HBM2E");
  const DramTimings& t = c.device.timings;
  DramStats stats("dram");
  ChannelTiming early(c, stats);
  early.activate(0, 7, 0);
  EXPECT_FALSE(early.can_issue(DramCommand::read, 0, t.tRCD - 1));
  EXPECT_TRUE(early.can_issue(DramCommand::read, 0, t.tRCD));
  // A read that arrives one cycle early is held until tRCD.
  const RowResult held = early.serve(read(0, 7, t.tRCD - 1));
  EXPECT_EQ(held.outcome, RowOutcome::hit);
  EXPECT_EQ(held.first_column, t.tRCD);
  EXPECT_EQ(held.data_done, t.tRCD + t.CL + c.device.burst_cycles());

  ChannelTiming on_time(c, stats);
  on_time.activate(0, 7, 0);
  const RowResult served = on_time.serve(read(0, 7, t.tRCD));
  EXPECT_EQ(served.first_column, t.tRCD);
  EXPECT_EQ(served.data_done, held.data_done);
}

TEST(DramTiming, ActivateRefusedBeforeTrrdAndTrc) {
  const DramConfig c = config_for("HBM2E");
  const DramTimings& t = c.device.timings;
  DramStats stats("dram");
  ChannelTiming ch(c, stats);
  ch.activate(0, 1, 0);
  // Bank 1 shares bank group 0 with bank 0; bank 4 is in bank group 1.
  EXPECT_THROW(ch.activate(1, 1, t.tRRD_L - 1), std::logic_error);
  EXPECT_EQ(ch.earliest(DramCommand::activate, 4), t.tRRD_S);
  EXPECT_EQ(ch.earliest(DramCommand::activate, 1), t.tRRD_L);
  EXPECT_EQ(ch.earliest(DramCommand::precharge, 0), t.tRAS);
  ch.activate(1, 1, t.tRRD_L);
  EXPECT_THROW(ch.activate(0, 2, 0), std::logic_error);  // row still open
}

TEST(DramTiming, HitMissConflictDifferByTrpAndTrcd) {
  for (const std::string preset : {"HBM2", "HBM2E", "HBM3", "DDR5-4800", "LPDDR4X-4266"}) {
    SCOPED_TRACE(preset);
    const DramConfig c = config_for(preset);
    const DramTimings& t = c.device.timings;
    const Cycles nbl = c.device.burst_cycles();
    DramStats stats("dram");
    ChannelTiming ch(c, stats);

    const RowResult miss = ch.serve(read(0, 1, 0));
    const RowResult hit = ch.serve(read(0, 1, kLater));
    const RowResult conflict = ch.serve(read(0, 2, 2 * kLater));
    EXPECT_EQ(miss.outcome, RowOutcome::miss);
    EXPECT_EQ(hit.outcome, RowOutcome::hit);
    EXPECT_EQ(conflict.outcome, RowOutcome::conflict);

    const Cycles miss_latency = miss.data_done - 0;
    const Cycles hit_latency = hit.data_done - kLater;
    const Cycles conflict_latency = conflict.data_done - 2 * kLater;
    EXPECT_EQ(hit_latency, t.CL + nbl);
    EXPECT_EQ(miss_latency - hit_latency, t.tRCD);
    EXPECT_EQ(conflict_latency - miss_latency, t.tRP);
    EXPECT_EQ(stats.row_hits.value, 1u);
    EXPECT_EQ(stats.row_misses.value, 1u);
    EXPECT_EQ(stats.row_conflicts.value, 1u);
    EXPECT_EQ(stats.activates.value, 2u);
    EXPECT_EQ(stats.precharges.value, 1u);
  }
}

TEST(DramTiming, ColumnSpacingIsTccdSAcrossBankGroupsAndTccdLWithin) {
  for (const std::string preset : {"HBM2", "HBM2E", "HBM3", "DDR5-4800"}) {
    SCOPED_TRACE(preset);
    const DramConfig c = config_for(preset);
    const DramTimings& t = c.device.timings;
    const std::uint32_t per_group = c.device.org.banks_per_group;
    ASSERT_LT(t.tCCD_S, t.tCCD_L);
    DramStats stats("dram");
    ChannelTiming ch(c, stats);
    // Open rows in bank 0 and 1 (group 0) and in the first bank of group 1.
    ch.serve(read(0, 3, 0));
    ch.serve(read(1, 3, 1000));
    ch.serve(read(per_group, 3, 2000));

    const Cycles at = kLater;
    const RowResult a = ch.serve(read(0, 3, at));
    const RowResult other_group = ch.serve(read(per_group, 3, at));
    EXPECT_EQ(a.first_column, at);
    // Bursts are at least nBL apart on the shared bus as well.
    EXPECT_EQ(other_group.first_column - a.first_column, std::max(t.tCCD_S, c.device.burst_cycles()));

    const RowResult b = ch.serve(read(0, 3, 2 * kLater));
    const RowResult same_group = ch.serve(read(1, 3, 2 * kLater));
    EXPECT_EQ(same_group.first_column - b.first_column, t.tCCD_L);
  }
}

TEST(DramTiming, RunOfBurstsToOneRowIsClosedForm) {
  const DramConfig c = config_for("HBM2E");
  const DramTimings& t = c.device.timings;
  DramStats stats("dram");
  ChannelTiming ch(c, stats);
  const std::uint32_t n = 32;
  const RowResult r = ch.serve(read(0, 9, 0, n));
  EXPECT_EQ(r.activate, 0u);
  EXPECT_EQ(r.first_column, t.tRCD);
  EXPECT_EQ(r.last_column, t.tRCD + (n - 1) * std::max(t.tCCD_L, c.device.burst_cycles()));
  EXPECT_EQ(r.data_done, r.last_column + t.CL + c.device.burst_cycles());
  EXPECT_EQ(stats.row_accesses.value, 1u);
  EXPECT_EQ(stats.reads.value, n);
  EXPECT_EQ(stats.row_hits.value, n - 1);
}

TEST(DramTiming, FawLimitsActivateRate) {
  const DramConfig c = config_for("HBM2E");
  const DramTimings& t = c.device.timings;
  const std::uint32_t groups = c.device.org.bank_groups;
  const std::uint32_t per_group = c.device.org.banks_per_group;
  ASSERT_GT(t.tFAW, 4 * t.tRRD_S) << "the preset must make tFAW the binding constraint";
  DramStats stats("dram");
  ChannelTiming ch(c, stats);
  std::vector<Cycles> acts;
  // Banks visited group by group so that consecutive ACTs are tRRD_S apart.
  for (std::uint32_t i = 0; i < 64; ++i) {
    const std::uint32_t bank = (i % groups) * per_group + (i / groups) % per_group;
    acts.push_back(ch.serve(read(bank, 100 + i, 0)).activate);
  }
  EXPECT_EQ(acts[1] - acts[0], t.tRRD_S);
  EXPECT_EQ(acts[3] - acts[0], 3 * t.tRRD_S);
  EXPECT_EQ(acts[4] - acts[0], t.tFAW);
  for (std::size_t i = 4; i < acts.size(); ++i) EXPECT_GE(acts[i] - acts[i - 4], t.tFAW);
  // Sustained: four ACTs per tFAW, no faster.
  EXPECT_EQ(acts[60] - acts[0], 15 * t.tFAW);
}

TEST(DramTiming, ClosedPagePolicyTradesHitsForConflicts) {
  const DramConfig open = config_for("HBM2E", "page_policy: open\n");
  const DramConfig closed = config_for("HBM2E", "page_policy: closed\n");
  const DramTimings& t = open.device.timings;
  DramStats stats("dram");
  ChannelTiming open_ch(open, stats);
  ChannelTiming closed_ch(closed, stats);
  open_ch.serve(read(0, 1, 0));
  closed_ch.serve(read(0, 1, 0));
  // Same row again: open keeps it (hit), closed re-activates (miss).
  const RowResult open_same = open_ch.serve(read(0, 1, kLater));
  const RowResult closed_same = closed_ch.serve(read(0, 1, kLater));
  EXPECT_EQ(open_same.outcome, RowOutcome::hit);
  EXPECT_EQ(closed_same.outcome, RowOutcome::miss);
  EXPECT_EQ(closed_same.data_done - open_same.data_done, t.tRCD);
  // Another row: open must precharge first (conflict), closed already did.
  const RowResult open_other = open_ch.serve(read(0, 2, 2 * kLater));
  const RowResult closed_other = closed_ch.serve(read(0, 2, 2 * kLater));
  EXPECT_EQ(open_other.outcome, RowOutcome::conflict);
  EXPECT_EQ(closed_other.outcome, RowOutcome::miss);
  EXPECT_EQ(open_other.data_done - closed_other.data_done, t.tRP);
}

TEST(DramTiming, WriteToReadWaitsForTwtr) {
  const DramConfig c = config_for("HBM2E");
  const DramTimings& t = c.device.timings;
  const Cycles nbl = c.device.burst_cycles();
  const std::uint32_t per_group = c.device.org.banks_per_group;
  DramStats stats("dram");
  ChannelTiming ch(c, stats);
  ch.serve(read(0, 1, 0));
  ch.serve(read(1, 1, 500));
  ch.serve(read(per_group, 1, 1000));
  RowRequest write{0, 1, 1, true, kLater, 0};
  const RowResult w = ch.serve(write);
  const RowResult same_group = ch.serve(read(1, 1, kLater));
  EXPECT_EQ(same_group.first_column, w.first_column + t.CWL + nbl + t.tWTR_L);
  write.arrival = 2 * kLater;
  const RowResult w2 = ch.serve(write);
  const RowResult other_group = ch.serve(read(per_group, 1, 2 * kLater));
  EXPECT_EQ(other_group.first_column, w2.first_column + t.CWL + nbl + t.tWTR_S);
}

TEST(DramTiming, FrFcfsServesRowHitBeforeOlderMissButFcfsDoesNot) {
  for (const std::string scheduler : {"fr-fcfs", "fcfs"}) {
    SCOPED_TRACE(scheduler);
    const DramConfig c = config_for("HBM2E", "scheduler: " + scheduler + "\n");
    const DramTimings& t = c.device.timings;
    DramStats stats("dram");
    ChannelTiming ch(c, stats);
    const auto sched = DramSchedulerRegistry::instance().create(c.scheduler);
    // Row 3 of bank 0 is open and the controller is busy until tRCD.
    ch.serve(read(0, 3, 0));
    std::vector<RowRequest> batch = {
        RowRequest{0, 5, 1, false, 1, 1},  // older, other row: a conflict
        RowRequest{0, 3, 1, false, 2, 2},  // younger, open row: a hit
    };
    std::vector<RowResult> results;
    serve_batch(ch, *sched, batch, c.queue_depth, &results);
    ASSERT_EQ(results.size(), 2u);
    if (scheduler == "fr-fcfs") {
      EXPECT_EQ(results[0].outcome, RowOutcome::hit);  // the younger hit went first
      EXPECT_EQ(results[1].outcome, RowOutcome::conflict);
      EXPECT_EQ(results[0].first_column, t.tRCD + t.tCCD_L);
    } else {
      EXPECT_EQ(results[0].outcome, RowOutcome::conflict);  // strictly oldest first
      EXPECT_EQ(results[1].outcome, RowOutcome::conflict);  // row 3 was closed by then
    }
  }
}

TEST(DramTiming, QueueDepthBoundsTheReorderingWindow) {
  const DramConfig c = config_for("HBM2E", "queue_depth: 1\n");
  DramStats stats("dram");
  ChannelTiming ch(c, stats);
  const auto sched = DramSchedulerRegistry::instance().create("fr-fcfs");
  ch.serve(read(0, 3, 0));
  std::vector<RowRequest> batch = {RowRequest{0, 5, 1, false, 1, 1}, RowRequest{0, 3, 1, false, 2, 2}};
  std::vector<RowResult> results;
  serve_batch(ch, *sched, batch, c.queue_depth, &results);
  EXPECT_EQ(results[0].outcome, RowOutcome::conflict);  // the hit was not yet visible
}

TEST(DramTiming, RefreshBlocksActivatesForTrfc) {
  const DramConfig c = config_for("HBM2E", "timing: {}\n");
  DramConfig with_refresh = c;
  with_refresh.refresh = true;
  const DramTimings& t = c.device.timings;
  DramStats stats("dram");
  ChannelTiming ch(with_refresh, stats);
  ch.serve(read(0, 1, 0));
  // Arriving exactly at the first due time: the REF goes first.
  const RowResult r = ch.serve(read(0, 1, t.tREFI));
  EXPECT_EQ(stats.refreshes.value, 1u);
  EXPECT_EQ(r.outcome, RowOutcome::miss);  // refresh closed the row
  EXPECT_EQ(r.activate, t.tREFI + t.tRFC);
  // A long idle stretch is refreshed in bulk: one REF per elapsed tREFI.
  const Cycles idle_until = 1000 * static_cast<Cycles>(t.tREFI) + t.tREFI / 2;
  ch.serve(read(0, 1, idle_until));
  EXPECT_EQ(stats.refreshes.value, 1000u);
}

}  // namespace
}  // namespace npusim::arch::dram
