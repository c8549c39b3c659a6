#include "sim/config/hw_config.h"

#include <filesystem>
#include <sstream>

#include <fmt/format.h>

#include "common/error.h"
#include "common/file_paths.h"
#include "sim/config/block_resolvers.h"

namespace npusim {
namespace {

std::string gbps(double bytes_per_s) { return fmt::format("{:.1f} GB/s", bytes_per_s / 1e9); }
std::string size(Bytes b) {
  if (b >= GiB && b % GiB == 0) return fmt::format("{} GiB", b / GiB);
  if (b >= MiB && b % MiB == 0) return fmt::format("{} MiB", b / MiB);
  if (b >= KiB && b % KiB == 0) return fmt::format("{} KiB", b / KiB);
  return fmt::format("{} B", b);
}

}  // namespace

HwConfig resolve_hw_config(const ConfigNode& root) {
  root.expect_keys({"name", "description", "core", "noc", "l2", "hbm", "ddr", "tech"});
  HwConfig hw;
  hw.file = root.file();
  hw.name = root["name"].as_string();
  if (auto d = root.find("description")) hw.description = d->as_string();
  hw.machine.core = arch::resolve_core_config(root["core"]);
  const int initiators = static_cast<int>(hw.machine.core.cube_cores * hw.machine.core.cores_per_group());
  hw.machine.noc = arch::resolve_noc_config(root["noc"], initiators);
  if (auto l2 = root.find("l2")) hw.machine.l2 = arch::resolve_l2_config(*l2);
  if (auto hbm = root.find("hbm")) hw.machine.hbm = arch::dram::resolve_dram_config(*hbm);
  if (auto ddr = root.find("ddr")) hw.machine.ddr = arch::dram::resolve_dram_config(*ddr);
  hw.tech_file = relative_to(hw.file, root["tech"].as_string());
  if (!std::filesystem::exists(hw.tech_file)) {
    root["tech"].fail(fmt::format("a technology table file (looked for {})", hw.tech_file));
  }

  // Every port the network routes to must have a block behind it.
  for (const auto& port : hw.machine.noc.targets) {
    const bool present = (port.name == "l2" && hw.machine.l2) || (port.name == "hbm" && hw.machine.hbm) ||
                         (port.name == "ddr" && hw.machine.ddr) || (port.name == "sram" && hw.machine.l2);
    if (!present) {
      root["noc"].fail_message(fmt::format("target port '{}' has no '{}' section in this file", port.name,
                                           port.name == "sram" ? "l2" : port.name));
    }
  }
  if (hw.machine.l2 && hw.machine.l2->impl == "cache" && !hw.machine.hbm && !hw.machine.ddr) {
    root["l2"].fail_message("an L2 cache needs an 'hbm' or 'ddr' section to fill from");
  }
  if (!hw.machine.hbm && !hw.machine.ddr) root.fail_message("a machine needs at least one of 'hbm' or 'ddr'");
  return hw;
}

HwConfig load_hw_config(const std::string& path) { return resolve_hw_config(ConfigNode::load_file(path)); }

mapper::MachineView machine_view(const HwConfig& hw) {
  using arch::Buffer;
  mapper::MachineView m;
  const auto& c = hw.machine.core;
  m.cube_cores = static_cast<int>(c.cube_cores);
  m.split_cores = c.style == arch::CoreStyle::split;
  m.vector_cores = m.split_cores ? static_cast<int>(c.cube_cores * c.vector_cores_per_cube) : 0;
  m.core_clock_hz = c.clock.hz();
  m.l1 = c.capacity(Buffer::l1);
  m.l0a = c.capacity(Buffer::l0a);
  m.l0b = c.capacity(Buffer::l0b);
  m.l0c = c.capacity(Buffer::l0c);
  m.ub = c.capacity(Buffer::ub);
  m.bias_table = c.capacity(Buffer::bias_table);
  for (const auto& [dtype, shape] : c.cube_shapes) m.cube_shape[dtype] = {shape.m0, shape.k0, shape.n0};
  m.sparse_cube = c.sparse.supported;
  m.sparse_gain = c.sparse.gain_2_4;
  m.cube_fill_drain_cycles = static_cast<double>(c.cube_fill_drain_cycles);
  m.vector_width_bytes = c.vector.width;
  m.gm_read_Bpc = c.paths.mte2_gm_Bpc;
  m.gm_write_Bpc = c.paths.fixpipe_out_Bpc;
  m.l1_to_l0a_Bpc = c.paths.l1_to_l0a_Bpc;
  m.l1_to_l0b_Bpc = c.paths.l1_to_l0b_Bpc;
  m.l1_to_bias_table_Bpc = c.paths.l1_to_bias_table_Bpc;
  if (hw.machine.hbm) {
    m.hbm_Bps = hw.machine.hbm->peak_bandwidth_Bps();
    m.hbm_capacity = hw.machine.hbm->capacity;
  }
  if (hw.machine.ddr) {
    m.ddr_Bps = hw.machine.ddr->peak_bandwidth_Bps();
    m.ddr_capacity = hw.machine.ddr->capacity;
  }
  if (hw.machine.l2 && hw.machine.l2->impl == "cache" && hw.machine.ddr && !hw.machine.hbm) {
    // The cache fills from HBM when there is one (arch/machine.cpp), so DDR
    // is cached only on a chip without HBM whose DDR port is the L2's.
    const int port = hw.machine.noc.port_for(arch::Tier::ddr);
    m.l2_caches_ddr = port >= 0 && hw.machine.noc.targets[static_cast<std::size_t>(port)].name == "l2";
  }
  if (hw.machine.l2 && hw.machine.l2->impl == "scratchpad") {
    m.sram_capacity = hw.machine.l2->capacity;
    m.sram_Bps = hw.machine.l2->banks * hw.machine.l2->bank_bytes_per_cycle * hw.machine.l2->clock.hz();
  }
  return m;
}

std::string describe_hw_config(const HwConfig& hw) {
  std::ostringstream out;
  const auto& c = hw.machine.core;
  const auto view = machine_view(hw);
  out << fmt::format("hw {} ({})\n", hw.name, hw.file);
  if (!hw.description.empty()) out << fmt::format("  description: {}\n", hw.description);
  out << fmt::format("  core: style {}, {} cube cores x {} per group, clock {:.3f} GHz\n", arch::core_style_name(c.style),
                     c.cube_cores, c.cores_per_group(), c.clock.hz() / 1e9);
  out << fmt::format("    buffers: L1 {}, L0A {}, L0B {}, L0C {}, UB {}, BT {}, FB {}\n", size(view.l1), size(view.l0a),
                     size(view.l0b), size(view.l0c), size(view.ub), size(c.capacity(arch::Buffer::bias_table)),
                     size(c.capacity(arch::Buffer::fixpipe_buffer)));
  for (const auto& [dtype, shape] : c.cube_shapes) {
    out << fmt::format("    cube {}: {}x{}x{} = {} MAC/cycle; chip peak {:.1f} TFLOPS\n", dtype_name(dtype), shape.m0,
                       shape.k0, shape.n0, shape.macs_per_cycle(), view.peak_flops(dtype) / 1e12);
  }
  out << fmt::format("    sparse cube: {}, fill+drain {} cycles\n", c.sparse.supported ? "yes" : "no",
                     c.cube_fill_drain_cycles);
  out << fmt::format("    paths (B/cycle): GM read {}, L1->L0A {}, L1->L0B {}, fixpipe out {}, MTE3 {}\n",
                     c.paths.mte2_gm_Bpc, c.paths.l1_to_l0a_Bpc, c.paths.l1_to_l0b_Bpc, c.paths.fixpipe_out_Bpc,
                     c.paths.mte3_Bpc);
  out << fmt::format("  noc: {} at {:.3f} GHz, {} ports, hop latency {} cycles\n", hw.machine.noc.impl, hw.machine.noc.clock.hz() / 1e9,
                     hw.machine.noc.targets.size(), hw.machine.noc.hop_latency_cycles);
  if (hw.machine.l2) {
    out << fmt::format("  l2: {} {} ({} banks x {:.1f} B/cycle at {:.3f} GHz)\n", hw.machine.l2->impl, size(hw.machine.l2->capacity),
                       hw.machine.l2->banks, hw.machine.l2->bank_bytes_per_cycle, hw.machine.l2->clock.hz() / 1e9);
  }
  for (const auto* tier : {&hw.machine.hbm, &hw.machine.ddr}) {
    if (!*tier) continue;
    const auto& d = **tier;
    out << fmt::format("  {}: preset {}, {} channels x {} pseudo-channels, {}, peak {}, page policy {}, mapping {}\n",
                       tier == &hw.machine.hbm ? "hbm" : "ddr", d.preset, d.channels, d.pseudo_channels_per_channel,
                       size(d.capacity), gbps(d.peak_bandwidth_Bps()),
                       d.page_policy == arch::dram::PagePolicy::open ? "open" : "closed", d.address_mapping);
  }
  out << fmt::format("  tech: {}\n", hw.tech_file);
  return out.str();
}

}  // namespace npusim
