#include "arch/memory/dram/dram_stats.h"

namespace npusim::arch::dram {

DramStats::DramStats(const std::string& name)
    : group_(name, "DRAM tier: commands, row-buffer outcomes, refresh and data-bus occupancy"),
      transactions(group_.add_counter("transactions", "TLM transactions served", "count")),
      row_accesses(group_.add_counter("row_accesses", "row-level requests scheduled (one scheduling step each)", "count")),
      reads(group_.add_counter("reads", "read column commands (bursts)", "count")),
      writes(group_.add_counter("writes", "write column commands (bursts)", "count")),
      bytes_read(group_.add_counter("bytes_read", "bytes requested by read transactions", "B")),
      bytes_written(group_.add_counter("bytes_written", "bytes requested by write transactions", "B")),
      activates(group_.add_counter("activates", "ACT commands", "count")),
      precharges(group_.add_counter("precharges", "PRE commands, including auto-precharge and those before refresh", "count")),
      row_hits(group_.add_counter("row_hits", "column commands to an already open row", "count")),
      row_misses(group_.add_counter("row_misses", "column commands that needed an ACT on a closed bank", "count")),
      row_conflicts(group_.add_counter("row_conflicts", "column commands that needed PRE then ACT", "count")),
      refreshes(group_.add_counter("refreshes", "all-bank REF commands", "count")),
      refresh_cycles(group_.add_counter("refresh_cycles", "pseudo-channel cycles spent in tRFC", "tCK")),
      data_bus_busy_cycles(group_.add_counter("data_bus_busy_cycles",
                                              "data-bus cycles carrying bursts, summed over pseudo-channels", "tCK")),
      elapsed_cycles(group_.add_counter("elapsed_cycles", "cycle at which the last data beat so far was delivered", "tCK")),
      pseudo_channels(group_.add_counter("pseudo_channels", "independent data buses", "count")) {}

double DramStats::bus_utilization() const {
  const double capacity = static_cast<double>(elapsed_cycles.value) * static_cast<double>(pseudo_channels.value);
  return capacity > 0 ? static_cast<double>(data_bus_busy_cycles.value) / capacity : 0.0;
}

}  // namespace npusim::arch::dram
