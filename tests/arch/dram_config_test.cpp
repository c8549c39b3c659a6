// Resolution of the `dram` section: presets by name, overrides, derived
// quantities, and errors that name file, line, path and expectation.
#include <cmath>
#include <string>

#include <gtest/gtest.h>

#include "sim/config/block_resolvers.h"
#include "arch/memory/dram/dram_config.h"
#include "arch/memory/dram/dram_scheduler.h"
#include "common/config_node.h"
#include "common/error.h"
#include "common/params.h"

namespace npusim::arch::dram {
namespace {

DramConfig resolve_text(const std::string& text) {
  const ConfigNode root = ConfigNode::load_string(text, "hw.yaml");
  return resolve_dram_config(root["dram"]);
}

// The InputError message for `text`, or "" if it resolved.
std::string error_of(const std::string& text) {
  try {
    resolve_text(text);
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

TEST(DramConfig, EveryRegisteredPresetResolvesAndStreams) {
  const auto names = DramStandardRegistry::instance().names();
  for (const char* expected : {"HBM2", "HBM2E", "HBM3", "DDR5-4800", "LPDDR4X-4266"}) {
    EXPECT_TRUE(DramStandardRegistry::instance().contains(expected)) << expected;
  }
  for (const auto& name : names) {
    SCOPED_TRACE(name);
    const DramConfig c = resolve_text("dram:\n  preset: " + name + "\n  channels: 4\n  capacity: 16 GiB\n");
    EXPECT_EQ(c.device.name, name);
    EXPECT_GT(c.rows_per_bank, 0u);
    EXPECT_EQ(c.device.org.burst_length % c.device.org.transfers_per_clock, 0u);
    const DramTimings& t = c.device.timings;
    for (const auto& field : timing_fields()) EXPECT_GT(t.*field.member, 0u) << field.name;
    EXPECT_GE(t.tRC, t.tRAS);
  }
}

TEST(DramConfig, EveryRegisteredSchedulerInstantiates) {
  for (const auto& name : DramSchedulerRegistry::instance().names()) {
    EXPECT_NE(DramSchedulerRegistry::instance().create(name), nullptr) << name;
  }
  EXPECT_TRUE(DramSchedulerRegistry::instance().contains("fr-fcfs"));
  EXPECT_TRUE(DramSchedulerRegistry::instance().contains("fcfs"));
}

TEST(DramConfig, PeakBandwidthOf910BLikeHbm2e) {
  // 4 stacks x 8 channels x 128 bits at 3.2 Gb/s/pin.
  const DramConfig c = resolve_text("dram:\n  preset: HBM2E\n  channels: 32\n  capacity: 64 GiB\n");
  EXPECT_EQ(c.pseudo_channels(), 64u);
  EXPECT_DOUBLE_EQ(c.device.data_rate_per_pin(), 3.2e9);
  EXPECT_DOUBLE_EQ(c.peak_bandwidth_Bps(), 32 * 128 / 8 * 3.2e9);
  EXPECT_EQ(c.burst_bytes(), 32u);
}

TEST(DramConfig, Hbm2eIsHbm2ReclockedThroughNanoseconds) {
  const DramConfig hbm2 = resolve_text("dram:\n  preset: HBM2\n  channels: 8\n  capacity: 8 GiB\n");
  const DramConfig hbm2e = resolve_text("dram:\n  preset: HBM2E\n  channels: 8\n  capacity: 8 GiB\n");
  const double ratio = hbm2e.device.clock_hz / hbm2.device.clock_hz;
  for (const auto& field : timing_fields()) {
    const double cycles = hbm2.device.timings.*field.member;
    const double expected = field.fixed_duration ? std::ceil(cycles * ratio - 1e-9) : cycles;
    EXPECT_EQ(hbm2e.device.timings.*field.member, expected) << field.name;
  }
}

TEST(DramConfig, DataRateAndTimingOverrides) {
  const DramConfig c = resolve_text(
      "dram:\n  preset: HBM2E\n  channels: 8\n  capacity: 8 GiB\n  data_rate: 3.6 Gbps\n"
      "  timing: {tRCD: 30, tFAW: 60}\n  pseudo_channels_per_channel: 1\n");
  EXPECT_DOUBLE_EQ(c.device.clock_hz, 1.8e9);
  EXPECT_EQ(c.device.timings.tRCD, 30u);
  EXPECT_EQ(c.device.timings.tFAW, 60u);
  EXPECT_EQ(c.pseudo_channels(), 8u);
  EXPECT_EQ(c.burst_bytes(), 64u);
  EXPECT_EQ(c.scheduler, "fr-fcfs");
  EXPECT_EQ(c.page_policy, PagePolicy::open);
}

TEST(DramConfig, ParamTableIsInTheCatalog) {
  bool found = false;
  for (const ParamTable* table : ParamCatalog::instance().tables()) {
    if (table->section() == "dram") {
      found = true;
      for (const auto& p : table->params()) EXPECT_FALSE(p.doc.empty()) << p.key;
    }
  }
  EXPECT_TRUE(found);
}

TEST(DramConfig, BadValuesNameFileLinePathAndExpectation) {
  const std::string head = "dram:\n  preset: HBM2E\n";
  const std::string tail = "  capacity: 8 GiB\n";

  std::string e = error_of(head + "  channels: sixteen\n" + tail);
  EXPECT_NE(e.find("hw.yaml:3: dram.channels: expected a positive integer, got \"sixteen\""), std::string::npos) << e;

  e = error_of("dram:\n  preset: HBM9\n  channels: 8\n" + tail);
  EXPECT_NE(e.find("hw.yaml:2: dram.preset: expected one of"), std::string::npos) << e;

  e = error_of(head + "  channels: 8\n" + tail + "  address_mapping: RoBaCoCh\n");
  EXPECT_NE(e.find("hw.yaml:5: dram.address_mapping: expected each of Ro, Ba, Bg, Co, Ch"), std::string::npos) << e;

  e = error_of(head + "  channels: 8\n" + tail + "  timing:\n    tRCDX: 3\n");
  EXPECT_NE(e.find("hw.yaml:6: dram.timing.tRCDX: unknown key 'tRCDX' (did you mean 'tRCD'?)"), std::string::npos)
      << e;

  e = error_of(head + "  channels: 8\n" + tail + "  timing: {tRCD: -4}\n");
  EXPECT_NE(e.find("hw.yaml:5: dram.timing.tRCD: expected a positive integer"), std::string::npos) << e;

  e = error_of(head + "  channels: 8\n" + tail + "  timing: {tCCD_L: 1}\n");
  EXPECT_NE(e.find("dram.timing.tCCD_L: expected tCCD_L >= tCCD_S"), std::string::npos) << e;

  e = error_of(head + "  channels: 8\n  capacity: 3 GiB\n");
  EXPECT_NE(e.find("hw.yaml:4: dram.capacity: expected a capacity that is a power-of-two multiple"),
            std::string::npos) << e;

  e = error_of(head + "  channels: 8\n" + tail + "  interleave: 4 KiB\n");
  EXPECT_NE(e.find("hw.yaml:5: dram.interleave: expected a power of two between the burst (32 B) and the page (1024 B)"),
            std::string::npos) << e;

  e = error_of(head + "  channels: 8\n" + tail + "  data_rate: 3200\n");
  EXPECT_NE(e.find("hw.yaml:5: dram.data_rate: expected a data rate per pin with a unit"), std::string::npos) << e;

  e = error_of(head + "  channels: 8\n" + tail + "  page_policy: half-open\n");
  EXPECT_NE(e.find("hw.yaml:5: dram.page_policy: expected one of"), std::string::npos) << e;

  e = error_of(head + "  channels: 8\n" + tail + "  scheduler: random\n");
  EXPECT_NE(e.find("hw.yaml:5: dram.scheduler: expected one of"), std::string::npos) << e;

  e = error_of(head + "  channels: 8\n" + tail + "  refrsh: false\n");
  EXPECT_NE(e.find("hw.yaml:5: dram.refrsh: unknown key 'refrsh' (did you mean 'refresh'?)"),
            std::string::npos) << e;

  e = error_of(head + tail);
  EXPECT_NE(e.find("missing required key 'channels'"), std::string::npos) << e;
}

}  // namespace
}  // namespace npusim::arch::dram
