#include "sim/config/block_resolvers.h"

#include <fmt/format.h>

#include "arch/l2/l2_model.h"
#include "sim/config/rate.h"

namespace npusim::arch {

const ParamTable kL2Params(
    "l2", "Shared on-chip memory tier: an L2 cache in front of HBM, or a software-managed SRAM scratchpad",
    {
        {"impl", "cache", "", "by registered name (cache | scratchpad)"},
        {"clock", "1.8 GHz", "Hz", "L2 clock; latency_cycles and B/cycle values count these cycles"},
        {"capacity", "192 MiB", "B", "data capacity; a scratchpad rejects any access beyond it"},
        {"line_size", "128 B", "B", "cache fill and write-back unit; bank interleave granule of both kinds"},
        {"tag_block", "8 KiB", "B", "bytes tracked by one tag, up to 64 lines with per-line valid/dirty bits (cache)"},
        {"ways", "16", "", "associativity, in tag blocks (cache)"},
        {"banks", "32", "", "independent banks, interleaved by line"},
        {"bandwidth", "8 TB/s", "B/cycle", "total over all banks (split evenly), B/cycle or a rate"},
        {"latency_cycles", "64", "cycles", "access pipeline latency added to every request"},
        {"writeback_buffer", "0 B", "B",
         "dirty evictions gathered and sent below as one batch, like a controller's write queue; 0 = at once (cache)"},
        {"tier", "sram", "", "address tier a scratchpad holds, starting at that tier's base (scratchpad)"},
    });
static const ParamTableRegistration kL2Reg(kL2Params);

L2Config resolve_l2_config(const ConfigNode& section) {
  section.expect_map();
  ParamReader r(section, kL2Params);
  L2Config c;
  c.impl = r["impl"].as_choice(L2Registry::instance().names());
  c.clock = Clock(r["clock"].as_frequency_hz());
  c.capacity = r["capacity"].as_bytes();
  if (c.capacity == 0) r["capacity"].fail("a positive size");
  c.line_bytes = r["line_size"].as_bytes();
  if (c.line_bytes == 0) r["line_size"].fail("a positive size");
  c.block_bytes = r["tag_block"].as_bytes();
  if (c.block_bytes == 0 || c.block_bytes % c.line_bytes != 0 || c.block_bytes / c.line_bytes > 64) {
    r["tag_block"].fail(fmt::format("a multiple of line_size ({} B) of at most 64 lines", c.line_bytes));
  }
  c.ways = static_cast<int>(r["ways"].as_positive_int());
  c.capacity_where = r["capacity"].where();
  c.banks = static_cast<int>(r["banks"].as_positive_int());
  c.bank_bytes_per_cycle = bytes_per_cycle(r["bandwidth"], c.clock) / c.banks;
  c.latency_cycles = r["latency_cycles"].as_count();
  c.writeback_buffer = r["writeback_buffer"].as_bytes();
  const std::string tier = r["tier"].as_choice({"sram", "hbm", "ddr"});
  c.tier = tier == "hbm" ? Tier::hbm : tier == "ddr" ? Tier::ddr : Tier::sram;
  return c;
}

}  // namespace npusim::arch
