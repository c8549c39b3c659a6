#include <numeric>

#include <gtest/gtest.h>

#include "common/error.h"
#include "stats/energy/apply_energy.h"
#include "tests/stats/sample_runs.h"

namespace npusim::stats {
namespace {

TechTable table7() { return load_tech_table(test::source_path("configs/tech/7nm.yaml")); }

ActivityCounts doubled(const ActivityCounts& a) {
  ActivityCounts d = a;
  for (auto* m : {&d.macs_by_dtype, &d.vector_ops_by_dtype, &d.buffer_bytes, &d.dram_bytes, &d.dram_activates}) {
    for (auto& kv : *m) kv.second *= 2;
  }
  d.l2_bytes *= 2;
  d.noc_bytes *= 2;
  return d;
}

TEST(EnergyModel, BreakdownSumsExactlyToTotal) {
  const RunResult r = test::make_sample_run();
  ASSERT_TRUE(r.energy_j);
  std::vector<std::string> keys;
  double sum = 0;
  for (const auto& kv : r.energy_breakdown_j) {
    keys.push_back(kv.first);
    sum += kv.second;
  }
  EXPECT_EQ(sum, *r.energy_j);  // bit for bit, not approximately
  std::vector<std::string> expected = energy_components();
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(keys, expected);
  for (const auto& kv : r.energy_breakdown_j) EXPECT_GE(kv.second, 0) << kv.first;
  EXPECT_GT(r.energy_breakdown_j.at("cube"), 0);
  EXPECT_GT(r.energy_breakdown_j.at("hbm"), 0);
  EXPECT_GT(r.energy_breakdown_j.at("static"), 0);
  EXPECT_EQ(r.energy_breakdown_j.at("ddr"), 0);
  ASSERT_TRUE(r.energy_per_token_j);
  EXPECT_EQ(*r.energy_per_token_j, *r.energy_j / *r.tokens);
}

TEST(EnergyModel, DoublingWorkDoublesDynamicEnergyExactly) {
  const RunResult base = test::make_sample_run();
  RunResult twice = base;
  twice.activity = doubled(base.activity);
  apply_energy(twice, table7(), test::sample_machine());
  for (const auto& kv : base.energy_breakdown_j) {
    if (kv.first == "static") {
      EXPECT_EQ(twice.energy_breakdown_j.at(kv.first), kv.second);  // same time, same leakage
    } else {
      EXPECT_EQ(twice.energy_breakdown_j.at(kv.first), 2 * kv.second) << kv.first;
    }
  }
  // Summed in the same order, the dynamic totals double bit for bit too.
  const auto dynamic = [](const RunResult& r) {
    double sum = 0;
    for (const auto& kv : r.energy_breakdown_j) sum += kv.first == "static" ? 0.0 : kv.second;
    return sum;
  };
  EXPECT_GT(dynamic(base), 0);
  EXPECT_EQ(dynamic(twice), 2 * dynamic(base));
}

TEST(EnergyModel, HandComputedEventsAndStaticPower) {
  const TechTable t = table7();
  RunResult r;
  r.seconds = 2e-3;
  r.activity.macs_by_dtype = {{"fp16", 1e9}, {"fp8_e4m3", 1e9}, {"mxfp4", 1e9}};
  r.activity.vector_ops_by_dtype = {{"fp16", 1e6}};
  r.activity.buffer_bytes = {{"l0a", 1e6}};
  r.activity.noc_bytes = 1e6;
  r.activity.dram_bytes = {{"hbm", 1e6}, {"ddr", 2e6}, {"sram", 3e6}};
  MachineEnergyInputs m;
  m.sram_capacity = {{"l0a", 64 * KiB}, {"sram", 32 * KiB}};
  m.cube_cores = 2;
  m.onchip_sram_bytes = 4 * MiB;
  m.hbm_stacks = 1;
  apply_energy(r, t, m);
  const auto& e = r.energy_breakdown_j;
  EXPECT_DOUBLE_EQ(e.at("cube"), 1e9 * (0.188e-12 + 0.1363e-12 + 0.0141e-12));
  EXPECT_DOUBLE_EQ(e.at("vector"), 1e6 * 0.0705e-12);
  EXPECT_DOUBLE_EQ(e.at("buffers"), 1e6 * t.sram_j_per_byte(64 * KiB));
  EXPECT_DOUBLE_EQ(e.at("noc"), 1e6 * 0.564e-12);
  EXPECT_DOUBLE_EQ(e.at("hbm"), 1e6 * 8 * 3.9e-12);
  EXPECT_DOUBLE_EQ(e.at("ddr"), 2e6 * 8 * 12e-12);
  EXPECT_DOUBLE_EQ(e.at("sram"), 3e6 * 7.888e-12 / 8);
  EXPECT_DOUBLE_EQ(e.at("static"), (2 * 1.246 + 4 * 0.03739 + 1.0) * 2e-3);
  EXPECT_FALSE(r.energy_per_token_j);  // no tokens in a bare graph run
}

TEST(EnergyModel, UnpricedPrecisionNamesTheTable) {
  RunResult r;
  r.activity.macs_by_dtype = {{"int2", 10}};
  try {
    apply_energy(r, table7(), MachineEnergyInputs{});
    FAIL() << "no error";
  } catch (const InputError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("7nm.yaml"), std::string::npos) << msg;
    EXPECT_NE(msg.find("'int2'"), std::string::npos) << msg;
  }
}

TEST(EnergyModel, TrafficOnAnArrayWithoutCapacityIsACallerError) {
  RunResult r;
  r.activity.buffer_bytes = {{"l1", 10}};
  EXPECT_THROW(apply_energy(r, table7(), MachineEnergyInputs{}), std::invalid_argument);
}

}  // namespace
}  // namespace npusim::stats
