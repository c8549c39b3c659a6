#include "sim/config/block_resolvers.h"

#include <fmt/format.h>

#include "arch/core/vector_timing.h"
#include "common/params.h"

namespace npusim::arch {

namespace {

// Defaults describe an Ascend 910B2 (A2 split) core; tags refer to
// shared/design/hardware-facts.md section 1, [E] marks an estimate.
const ParamTable kCoreTable(
    "core", "Ascend-style AI core: pipes, buffers, cube and vector units",
    {
        {"style", "split", "", "split (A2/A3: AIC + AIVs exchanging through GM) | coupled (910/310P) [A1,A5]"},
        {"cube_cores", "24", "cores", "AIC count (910B2: 24) [A5,A17]"},
        {"vector_cores_per_cube", "2", "cores", "AIVs per AIC in a split core group; must be 0 when coupled [A1]"},
        {"clock", "1.8 GHz", "Hz", "core clock (910B2 1800 MHz) [A12,A17]"},
        {"buffers", "{}", "", "on-chip buffer capacities (section core.buffers)"},
        {"cube", "{fp16: [16,16,16], bf16: [16,16,16], int8: [16,32,16], int4: [16,64,16]}", "elements",
         "cube fractal [m0,k0,n0] per precision; an absent precision is unsupported [A13,A18]"},
        {"cube_fill_drain_cycles", "32", "cycles", "cube pipeline fill + drain, charged once per mmad [E]"},
        {"sparse", "{}", "", "structured-sparsity support of the cube (section core.sparse)"},
        {"vector", "{}", "", "vector unit (section core.vector)"},
        {"paths", "{}", "", "per-core path rates (section core.paths)"},
        {"scalar_issue_cycles", "1", "cycles", "scalar unit cycles to issue one instruction [E]"},
        {"event_ids", "8", "ids", "event ids per src->dst pipe pair and per cross-core pair (A2: 8) [A3,A20]"},
        {"transfer_chunk", "64 KiB", "B", "GM transfers split into chunks of at most this, for fair contention"},
    });

const ParamTable kBufferTable(
    "core.buffers", "per-core buffer capacities (910B values) [A5,A7,A18]",
    {
        {"l1", "512 KiB", "B", "L1 buffer (910/310P: 1 MiB) [A5,A7]"},
        {"l0a", "64 KiB", "B", "L0A (left operand) [A5,A7]"},
        {"l0b", "64 KiB", "B", "L0B (right operand) [A5,A7]"},
        {"l0c", "128 KiB", "B", "L0C accumulators (910/310P: 256 KiB) [A5,A7]"},
        {"ub", "192 KiB", "B", "unified buffer of the vector unit (310P: 248 KiB usable) [A5,A18]"},
        {"bias_table", "1 KiB", "B", "bias table [A7,A11]"},
        {"fixpipe_buffer", "7 KiB", "B", "fixpipe parameter buffer [A5,A7]"},
    });

const ParamTable kSparseTable(
    "core.sparse", "structured sparsity on the cube",
    {
        {"supported", "false", "", "cube skips zeros of a 2:4 / 4:8 L0B operand; if false it runs dense [E]"},
        {"gain_2_4", "2.0", "x", "cube speed-up on a 2:4 operand when supported [E]"},
        {"gain_4_8", "2.0", "x", "cube speed-up on a 4:8 operand when supported [E]"},
    });

const ParamTable kVectorTable(
    "core.vector", "vector unit",
    {
        {"width", "256 B", "B", "bytes per repeat (2048-bit SIMD) [A13,A9]"},
        {"cycles_per_repeat",
         "{default: 1, exp: 2, rsqrt: 2, silu: 3, gelu: 4, reduce_max: 1, reduce_sum: 1}", "cycles",
         "cycles per repeat by op kind, optionally kind.dtype; 'default' covers the rest [E]"},
        {"dequantize_elements_per_cycle", "64", "elements/cycle", "dequantize throughput in output elements [E]"},
        {"decompress_elements_per_cycle", "64", "elements/cycle", "sparse-format decompress throughput [E]"},
    });

const ParamTable kPathTable(
    "core.paths", "per-core path rates in bytes per core cycle",
    {
        {"mte2_gm_Bpc", "32", "B/cycle", "MTE2 GM->L1/UB per core; A18 ini ddr_rate 32 (A8 says 40)"},
        {"l1_to_l0a_Bpc", "512", "B/cycle", "MTE1 L1->L0A [A8,A10,A18]"},
        {"l1_to_l0b_Bpc", "256", "B/cycle", "MTE1 L1->L0B [A8,A10]"},
        {"l1_to_bias_table_Bpc", "256", "B/cycle",
         "MTE1 L1->bias table, bytes landing in the table; no published rate, taken as L1->L0B's [E]"},
        {"l0c_to_ub_Bpc", "256", "B/cycle", "L0C->UB on coupled cores [A8] (A10 says 512)"},
        {"fixpipe_out_Bpc", "64", "B/cycle", "FixPipe L0C->GM/L1, output bytes [E] (UB->L2 64 in A18)"},
        {"mte3_Bpc", "40", "B/cycle", "MTE3 UB->GM [A8]"},
    });

const ParamTableRegistration kCoreReg(kCoreTable);
const ParamTableRegistration kBufferReg(kBufferTable);
const ParamTableRegistration kSparseReg(kSparseTable);
const ParamTableRegistration kVectorReg(kVectorTable);
const ParamTableRegistration kPathReg(kPathTable);

std::map<DType, CubeShape> read_cube_shapes(const ConfigNode& node) {
  node.expect_map();
  std::map<DType, CubeShape> shapes;
  for (const std::string& key : node.keys()) {
    const ConfigNode entry = node[key];
    auto dtype = dtype_from_name(key);
    if (!dtype) entry.fail_message(fmt::format("unknown precision '{}', expected one of {}", key, dtype_choices()));
    const auto dims = entry.elements();
    if (dims.size() != 3) entry.fail("a list [m0, k0, n0] of three positive integers");
    shapes[*dtype] = CubeShape{static_cast<std::uint32_t>(dims[0].as_positive_int()),
                               static_cast<std::uint32_t>(dims[1].as_positive_int()),
                               static_cast<std::uint32_t>(dims[2].as_positive_int())};
  }
  if (shapes.empty()) node.fail("at least one precision with its cube shape");
  return shapes;
}

std::map<std::string, double> read_vector_costs(const ConfigNode& node) {
  node.expect_map();
  std::map<std::string, double> costs;
  for (const std::string& key : node.keys()) {
    const auto dot = key.find('.');
    const std::string kind = key.substr(0, dot);
    const bool kind_ok = key == "default" || vector_op_from_name(kind).has_value();
    const bool dtype_ok = dot == std::string::npos || dtype_from_name(key.substr(dot + 1)).has_value();
    if (!kind_ok || !dtype_ok) {
      node[key].fail_message(fmt::format("unknown vector cost key '{}', expected 'default', an op kind "
                                         "(add, exp, rsqrt, ...) or kind.dtype (exp.fp32)", key));
    }
    costs[key] = node[key].as_positive_double();
  }
  if (!costs.count("default")) node.fail_message("missing required key 'default' (cycles per repeat of other ops)");
  return costs;
}

}  // namespace


CoreConfig resolve_core_config(const ConfigNode& core_section) {
  core_section.expect_map();
  const ParamReader core(core_section, kCoreTable);
  CoreConfig c;
  c.style = core["style"].as_choice({"split", "coupled"}) == "split" ? CoreStyle::split : CoreStyle::coupled;
  c.cube_cores = static_cast<std::uint32_t>(core["cube_cores"].as_positive_int());
  c.vector_cores_per_cube = static_cast<std::uint32_t>(core["vector_cores_per_cube"].as_count());
  if (c.style == CoreStyle::split && c.vector_cores_per_cube == 0) {
    core["vector_cores_per_cube"].fail("at least 1 vector core per cube core for style split");
  }
  if (c.style == CoreStyle::coupled && c.vector_cores_per_cube != 0) {
    core["vector_cores_per_cube"].fail("0 for style coupled (the vector pipe is inside the core)");
  }
  c.clock = Clock(core["clock"].as_frequency_hz());

  const ConfigNode buffers_node = core["buffers"];
  buffers_node.expect_map();
  const ParamReader buffers(buffers_node, kBufferTable);
  auto set_buffer = [&](Buffer b, const char* key) {
    const Bytes v = buffers[key].as_bytes();
    if (v == 0) buffers[key].fail("a positive size");
    c.buffer_bytes[static_cast<int>(b)] = v;
  };
  set_buffer(Buffer::l1, "l1");
  set_buffer(Buffer::l0a, "l0a");
  set_buffer(Buffer::l0b, "l0b");
  set_buffer(Buffer::l0c, "l0c");
  set_buffer(Buffer::ub, "ub");
  set_buffer(Buffer::bias_table, "bias_table");
  set_buffer(Buffer::fixpipe_buffer, "fixpipe_buffer");

  c.cube_shapes = read_cube_shapes(core["cube"]);
  c.cube_fill_drain_cycles = core["cube_fill_drain_cycles"].as_count();

  const ConfigNode sparse_node = core["sparse"];
  sparse_node.expect_map();
  const ParamReader sparse(sparse_node, kSparseTable);
  c.sparse.supported = sparse["supported"].as_bool();
  c.sparse.gain_2_4 = sparse["gain_2_4"].as_positive_double();
  c.sparse.gain_4_8 = sparse["gain_4_8"].as_positive_double();
  if (c.sparse.gain_2_4 < 1.0) sparse["gain_2_4"].fail("a gain of at least 1.0");
  if (c.sparse.gain_4_8 < 1.0) sparse["gain_4_8"].fail("a gain of at least 1.0");

  const ConfigNode vector_node = core["vector"];
  vector_node.expect_map();
  const ParamReader vector(vector_node, kVectorTable);
  c.vector.width = vector["width"].as_bytes();
  if (c.vector.width == 0) vector["width"].fail("a positive width in bytes");
  c.vector.cycles_per_repeat = read_vector_costs(vector["cycles_per_repeat"]);
  c.vector.dequantize_elements_per_cycle = vector["dequantize_elements_per_cycle"].as_positive_double();
  c.vector.decompress_elements_per_cycle = vector["decompress_elements_per_cycle"].as_positive_double();

  const ConfigNode paths_node = core["paths"];
  paths_node.expect_map();
  const ParamReader paths(paths_node, kPathTable);
  c.paths.mte2_gm_Bpc = paths["mte2_gm_Bpc"].as_positive_double();
  c.paths.l1_to_l0a_Bpc = paths["l1_to_l0a_Bpc"].as_positive_double();
  c.paths.l1_to_l0b_Bpc = paths["l1_to_l0b_Bpc"].as_positive_double();
  c.paths.l1_to_bias_table_Bpc = paths["l1_to_bias_table_Bpc"].as_positive_double();
  c.paths.l0c_to_ub_Bpc = paths["l0c_to_ub_Bpc"].as_positive_double();
  c.paths.fixpipe_out_Bpc = paths["fixpipe_out_Bpc"].as_positive_double();
  c.paths.mte3_Bpc = paths["mte3_Bpc"].as_positive_double();

  c.scalar_issue_cycles = core["scalar_issue_cycles"].as_count();
  c.event_ids = static_cast<std::uint32_t>(core["event_ids"].as_positive_int());
  if (c.event_ids > 256) core["event_ids"].fail("at most 256 event ids (Instruction::event_id is 8 bits)");
  c.transfer_chunk = core["transfer_chunk"].as_bytes();
  if (c.transfer_chunk == 0) core["transfer_chunk"].fail("a positive size");
  return c;
}

}  // namespace npusim::arch
