// Many concurrent streams through one DRAM tier: requests placed later use
// the bank and bus time that earlier ones leave idle (out-of-order placement,
// channel_timing.h), the tier stays under its refresh ceiling, and the trace
// hooks record what the calculators placed. Elaborates once per TEST.
#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <systemc>
#include <tlm>
#include <tlm_utils/multi_passthrough_target_socket.h>
#include <tlm_utils/simple_initiator_socket.h>

#include "sim/config/block_resolvers.h"
#include "arch/address_map.h"
#include "arch/memory/dram/channel_timing.h"
#include "arch/memory/dram/dram_module.h"
#include "common/config_node.h"
#include "common/trace_sink.h"

namespace npusim::arch::dram {
namespace {

// The 910B-like tier: 4 HBM2E stacks, 64 pseudo-channels, 1.6 TB/s.
DramConfig hbm_910b(const std::string& extra = "") {
  return resolve_dram_config(ConfigNode::load_string(
      "preset: HBM2E\nchannels: 32\ndata_rate: 3200 MT/s\ncapacity: 64 GiB\n" + extra, "streams_test.yaml"));
}

// Reads [base, base + bytes) in `transfer`-byte pieces, one outstanding, as an
// MTE2 engine does.
class Stream : public sc_core::sc_module {
 public:
  tlm_utils::simple_initiator_socket<Stream> socket;

  Stream(sc_core::sc_module_name name, std::uint64_t base, std::uint64_t bytes, std::uint64_t transfer)
      : sc_core::sc_module(name), socket("socket"), base_(base), bytes_(bytes), transfer_(transfer) {
    SC_HAS_PROCESS(Stream);
    SC_THREAD(run);
  }

 private:
  void run() {
    tlm::tlm_generic_payload p;
    p.set_command(tlm::TLM_READ_COMMAND);
    p.set_data_ptr(nullptr);
    for (std::uint64_t offset = 0; offset < bytes_; offset += transfer_) {
      p.set_address(kHbmBase + base_ + offset);
      p.set_data_length(static_cast<unsigned>(transfer_));
      p.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
      sc_core::sc_time delay = sc_core::SC_ZERO_TIME;
      socket->b_transport(p, delay);
      wait(delay);
    }
  }

  std::uint64_t base_, bytes_, transfer_;
};

class FanIn : public sc_core::sc_module {
 public:
  tlm_utils::multi_passthrough_target_socket<FanIn> in;
  tlm_utils::simple_initiator_socket<FanIn> out;

  explicit FanIn(sc_core::sc_module_name name) : sc_core::sc_module(name), in("in"), out("out") {
    in.register_b_transport(this, &FanIn::forward);
  }

 private:
  void forward(int, tlm::tlm_generic_payload& payload, sc_core::sc_time& delay) { out->b_transport(payload, delay); }
};

// 24 engines, each on its own region; the regions start at multiples of
// `spacing`, so with a power-of-two spacing every stream wants the same bank
// at the same time: the case an in-order controller serialises.
struct Fleet {
  FanIn link{"link"};
  std::vector<std::unique_ptr<Stream>> streams;

  Fleet(DramModule& dram, unsigned count, std::uint64_t spacing, std::uint64_t bytes, std::uint64_t transfer) {
    link.out.bind(dram.socket);
    for (unsigned i = 0; i < count; ++i) {
      streams.push_back(
          std::make_unique<Stream>(("mte2_" + std::to_string(i)).c_str(), i * spacing, bytes, transfer));
      streams.back()->socket.bind(link.in);
    }
  }
};

double refresh_ceiling(const DramConfig& c) {
  return 1.0 - static_cast<double>(c.device.timings.tRFC) / c.device.timings.tREFI;
}

TEST(DramStreams, TwentyFourDisjointStreamsReachEightyFivePercentOfPeak) {
  const DramConfig c = hbm_910b();
  DramModule hbm("hbm", c, Tier::hbm);
  const std::uint64_t per_stream = 8 * MiB;
  Fleet fleet(hbm, 24, 64 * MiB, per_stream, 64 * KiB);
  sc_core::sc_start();
  const double seconds = sc_core::sc_time_stamp().to_seconds();
  const double achieved = 24.0 * per_stream / seconds / c.peak_bandwidth_Bps();
  EXPECT_GE(achieved, 0.85);
  // Refresh takes tRFC of every tREFI, whatever the scheduler does.
  EXPECT_LE(achieved, refresh_ceiling(c) + 1e-3);
  EXPECT_LE(hbm.controller().stats().bus_utilization(), refresh_ceiling(c) + 1e-3);
}

TEST(DramStreams, FcfsWithOneEntryQueueStaysInOrderAndSlower) {
  // With a one-entry queue nothing may overtake: the same fleet loses the
  // bank parallelism the reordering window gave it.
  const DramConfig c = hbm_910b("scheduler: fcfs\nqueue_depth: 1\n");
  DramModule hbm("hbm", c, Tier::hbm);
  const std::uint64_t per_stream = 4 * MiB;
  Fleet fleet(hbm, 24, 64 * MiB, per_stream, 64 * KiB);
  sc_core::sc_start();
  const double achieved = 24.0 * per_stream / sc_core::sc_time_stamp().to_seconds() / c.peak_bandwidth_Bps();
  EXPECT_LT(achieved, 0.85);
}

RowRequest read(std::uint32_t bank, std::uint32_t row, Cycles arrival, std::uint32_t bursts) {
  return RowRequest{bank, row, bursts, false, arrival, 0};
}

TEST(DramStreams, YoungerRequestUsesTimeAnOlderConflictLeavesIdle) {
  const DramConfig c = hbm_910b("refresh: false\n");
  const DramTimings& t = c.device.timings;
  DramStats stats("dram");
  ChannelTiming ch(c, stats);
  const std::uint32_t other_group = c.device.org.banks_per_group;
  const RowResult first = ch.serve(read(0, 1, 0, 32));
  // Older: another row of the busy bank, so PRE after the run, tRP, ACT, tRCD.
  const RowResult older = ch.serve(read(0, 2, 1, 32));
  ASSERT_EQ(older.outcome, RowOutcome::conflict);
  EXPECT_GE(older.precharge, first.last_column + t.tRTP);
  // Younger, to an idle bank of another group: it goes first, and its ACT
  // still keeps tRRD from both ACTs around it.
  const RowResult younger = ch.serve(read(other_group, 1, 2, 32));
  EXPECT_LT(younger.first_column, older.first_column);
  EXPECT_GE(younger.activate, first.activate + t.tRRD_S);
  EXPECT_GE(std::max(younger.activate, older.activate) - std::min(younger.activate, older.activate), t.tRRD_S);
  // The bus carries both runs: no more than one burst slot per max(nBL, tCCD_S).
  const Cycles slot = std::max(c.device.burst_cycles(), t.tCCD_S);
  const Cycles span = std::max(older.last_column, younger.last_column) + slot - first.first_column;
  EXPECT_GE(span, 3 * 32 * slot);
}

// Counts what the tier reports.
class CountingSink : public TraceSink {
 public:
  std::map<std::string, int> tracks;
  std::vector<Tick> busy;  // per track
  std::size_t slices = 0;
  std::size_t samples = 0;
  double sampled_bytes = 0;
  Tick last_end = 0;

  int track(const std::string& process, const std::string& thread) override {
    auto [it, added] = tracks.emplace(process + "/" + thread, static_cast<int>(tracks.size()));
    if (added) busy.push_back(0);
    return it->second;
  }
  void slice(int track, const char*, Tick begin, Tick end) override {
    ++slices;
    busy.at(static_cast<std::size_t>(track)) += end - begin;
    last_end = std::max(last_end, end);
  }
  void counter(const std::string& name, Tick, double value) override {
    EXPECT_EQ(name, "hbm.bandwidth");
    ++samples;
    sampled_bytes += value * 1e9 * 1e-6;  // GB/s over a 1 us window
  }
};

TEST(DramStreams, TraceRecordsBusTimePerPseudoChannelAndBoundedBandwidthSamples) {
  const DramConfig c = hbm_910b();
  DramModule hbm("hbm", c, Tier::hbm);
  CountingSink sink;
  hbm.set_trace(&sink);
  const std::uint64_t per_stream = 2 * MiB;
  Fleet fleet(hbm, 24, 64 * MiB, per_stream, 64 * KiB);
  sc_core::sc_start();
  hbm.controller().flush_trace();
  const auto& stats = hbm.controller().stats();
  EXPECT_EQ(sink.tracks.size(), c.pseudo_channels());
  EXPECT_EQ(sink.tracks.count("hbm/pc0"), 1u);
  EXPECT_GE(sink.slices, stats.row_accesses.value);
  // Slices cover exactly the bus time the calculators booked.
  Tick busy = 0;
  for (Tick b : sink.busy) busy += b;
  const double booked_s = static_cast<double>(stats.reads.value) * std::max(c.device.burst_cycles(), c.device.timings.tCCD_S) /
                          c.device.clock_hz;
  EXPECT_NEAR(ticks_to_seconds(busy), booked_s, booked_s * 0.01);
  // At most one sample per microsecond (plus one per idle gap), and together
  // they account for every byte.
  const double us = sc_core::sc_time_stamp().to_seconds() * 1e6;
  EXPECT_LE(static_cast<double>(sink.samples), 2 * us + 2);
  EXPECT_NEAR(sink.sampled_bytes, 24.0 * per_stream, 1.0);
}

TEST(DramStreams, TraceOffByDefaultCostsNothingVisible) {
  const DramConfig c = hbm_910b();
  DramModule hbm("hbm", c, Tier::hbm);
  Fleet fleet(hbm, 2, 64 * MiB, 256 * KiB, 64 * KiB);
  sc_core::sc_start();
  hbm.controller().flush_trace();  // a no-op without a sink
  EXPECT_EQ(hbm.controller().stats().bytes_read.value, 2 * 256 * KiB);
}

}  // namespace
}  // namespace npusim::arch::dram
