#include <algorithm>
#include <cmath>
#include <fstream>

#include <gtest/gtest.h>

#include "common/error.h"
#include "stats/energy/energy_model.h"
#include "stats/energy/tech_table.h"
#include "support/test_paths.h"

namespace npusim::stats {
namespace {

TechTable load(const std::string& node) { return load_tech_table(test::source_path("configs/tech/" + node + ".yaml")); }

std::string write_file(const std::string& name, const std::string& text) {
  const std::string path = test::scratch_dir() + "/" + name;
  std::ofstream(path) << text;
  return path;
}

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void expect_scaled(double scaled, double base, double factor, const std::string& what) {
  // Tables round to 4 significant digits.
  EXPECT_NEAR(scaled / (base * factor), 1.0, 1e-3) << what;
}

TEST(EnergyTech, BaselineHoldsHorowitzNumbers) {
  const TechTable t = load("45nm");
  EXPECT_EQ(t.node_nm, 45);
  EXPECT_EQ(t.model, "event-table");
  EXPECT_DOUBLE_EQ(t.mac_j.at("int8"), 0.3e-12);   // 0.2 mult + 0.1 int32 add
  EXPECT_DOUBLE_EQ(t.mac_j.at("fp16"), 2.0e-12);   // 1.1 mult + 0.9 fp32 add
  EXPECT_DOUBLE_EQ(t.mac_j.at("int4"), t.mac_j.at("int8") / 2);
  EXPECT_DOUBLE_EQ(t.dram_j_per_byte.at("hbm"), 3.9e-12 * 8);
  // SRAM anchors are per 64-bit access; per byte is an eighth.
  EXPECT_DOUBLE_EQ(t.sram_j_per_byte(8 * KiB), 10e-12 / 8);
  EXPECT_DOUBLE_EQ(t.sram_j_per_byte(32 * KiB), 20e-12 / 8);
  EXPECT_NEAR(t.sram_j_per_byte(1 * MiB), 100e-12 / 8, 1e-24);
}

TEST(EnergyTech, SmallerNodesFollowTheStatedScalingRules) {
  const TechTable base = load("45nm");
  for (const auto& [node, logic] : {std::pair<std::string, double>{"7nm", 0.094}, {"5nm", 0.080}}) {
    const TechTable t = load(node);
    const double sram = std::sqrt(t.node_nm / 45.0);
    const double leak = sram * 0.79;
    for (const auto& kv : base.mac_j) expect_scaled(t.mac_j.at(kv.first), kv.second, logic, node + " mac " + kv.first);
    for (const auto& kv : base.vector_op_j) {
      expect_scaled(t.vector_op_j.at(kv.first), kv.second, logic, node + " vector " + kv.first);
    }
    expect_scaled(t.noc_j_per_byte, base.noc_j_per_byte, logic, node + " noc");
    ASSERT_EQ(t.sram.size(), base.sram.size());
    for (std::size_t i = 0; i < t.sram.size(); ++i) {
      EXPECT_EQ(t.sram[i].capacity, base.sram[i].capacity);
      expect_scaled(t.sram[i].energy_per_byte_j, base.sram[i].energy_per_byte_j, sram, node + " sram");
    }
    expect_scaled(t.static_power.cube_core_w, base.static_power.cube_core_w, leak, node + " cube leakage");
    expect_scaled(t.static_power.vector_core_w, base.static_power.vector_core_w, leak, node + " vector leakage");
    expect_scaled(t.static_power.sram_per_mib_w, base.static_power.sram_per_mib_w, leak, node + " sram leakage");
    expect_scaled(t.static_power.noc_router_w, base.static_power.noc_router_w, leak, node + " router leakage");
    // Memory dies do not follow the logic node.
    EXPECT_EQ(t.dram_j_per_byte, base.dram_j_per_byte);
    EXPECT_EQ(t.static_power.hbm_stack_w, base.static_power.hbm_stack_w);
    EXPECT_EQ(t.static_power.ddr_channel_w, base.static_power.ddr_channel_w);
  }
}

TEST(EnergyTech, SramEnergyInterpolatesByCapacity) {
  const TechTable t = load("7nm");
  double previous = 0;
  for (Bytes size : {1 * KiB, 8 * KiB, 64 * KiB, 128 * KiB, 192 * KiB, 512 * KiB, 1 * MiB, 4 * MiB}) {
    const double e = t.sram_j_per_byte(size);
    EXPECT_GT(e, previous) << size;  // bigger arrays cost more per access
    previous = e;
  }
  // Between 8 KiB and 32 KiB energy doubles for 4x capacity: 16 KiB is sqrt(2) above 8 KiB.
  EXPECT_NEAR(t.sram_j_per_byte(16 * KiB) / t.sram_j_per_byte(8 * KiB), std::sqrt(2.0), 1e-9);
}

TEST(EnergyTech, BadValueNamesFileLineAndPath) {
  std::string text = read_text(test::source_path("configs/tech/7nm.yaml"));
  const std::string good = "  fp8: 0.1363 pJ";
  const auto at = text.find(good);
  ASSERT_NE(at, std::string::npos);
  text.replace(at, good.size(), "  fp8: lots");
  const int line = 1 + static_cast<int>(std::count(text.begin(), text.begin() + static_cast<long>(at), '\n'));
  const std::string path = write_file("bad.yaml", text);
  try {
    load_tech_table(path);
    FAIL() << "no error";
  } catch (const InputError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find(path + ":" + std::to_string(line) + ": mac_energy.fp8: expected an energy"), std::string::npos)
        << msg;
    EXPECT_NE(msg.find("\"lots\""), std::string::npos) << msg;
  }
}

TEST(EnergyTech, RejectsUnknownKeysMissingEntriesAndDisorderedAnchors) {
  const std::string base = read_text(test::source_path("configs/tech/7nm.yaml"));
  const auto expect_error = [&](const std::string& from, const std::string& to, const std::string& needle) {
    std::string text = base;
    const auto at = text.find(from);
    ASSERT_NE(at, std::string::npos) << from;
    text.replace(at, from.size(), to);
    try {
      load_tech_table(write_file("t.yaml", text));
      FAIL() << "no error for " << to;
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  expect_error("  int4: 0.0141 pJ", "  int2: 0.0141 pJ", "unknown key 'int2'");
  expect_error("  int4: 0.0141 pJ", "", "mac_energy: missing required key 'int4'");
  expect_error("{capacity: 32 KiB", "{capacity: 4 KiB", "sram[1].capacity: expected a capacity above");
  expect_error("model: event-table", "model: magic", "model: expected one of event-table");
  expect_error("  cube_core: 1.246 W", "  cube_core: 1.246 pJ", "static_power.cube_core: expected a power");
}

TEST(EnergyTech, EveryRegisteredModelInstantiates) {
  const TechTable t = load("7nm");
  const auto names = EnergyModelRegistry::instance().names();
  ASSERT_FALSE(names.empty());
  for (const auto& name : names) {
    auto model = EnergyModelRegistry::instance().create(name, t);
    ASSERT_NE(model, nullptr) << name;
    const auto parts = model->breakdown(ActivityCounts{}, 0.0, MachineEnergyInputs{});
    EXPECT_EQ(parts.size(), energy_components().size()) << name;
  }
}

}  // namespace
}  // namespace npusim::stats
