#pragma once
// A technology table: per-event energies and static powers of one process
// node, read from configs/tech/*.yaml. Values are stored in SI units (joules,
// watts, bytes) once resolved; the YAML carries the units and the citations.
#include <map>
#include <string>
#include <vector>

#include "common/config_node.h"
#include "common/units.h"

namespace npusim::stats {

// One anchor of the SRAM access-energy curve: an array of `capacity` bytes
// costs `energy_per_byte_j` per byte read or written.
struct SramPoint {
  Bytes capacity = 0;
  double energy_per_byte_j = 0;
};

// Leakage per block; the driver supplies how many of each block the machine has.
struct StaticPowerTable {
  double cube_core_w = 0;     // one AIC (cube, MTE1/2, FixPipe, L1, L0, scalar)
  double vector_core_w = 0;   // one AIV (vector, MTE2/3, scalar), logic only
  double sram_per_mib_w = 0;  // every on-chip SRAM array, per MiB of capacity
  double hbm_stack_w = 0;     // background power of one HBM stack (refresh, PHY idle)
  double ddr_channel_w = 0;   // background power of one DDR channel
  double noc_router_w = 0;    // one on-chip network router
};

struct TechTable {
  std::string source;  // file the table came from, for messages
  double node_nm = 0;
  std::string model;   // energy model implementation, chosen by name
  std::map<std::string, double> mac_j;          // precision class -> J per MAC
  std::map<std::string, double> vector_op_j;    // precision class -> J per element op
  std::vector<SramPoint> sram;                  // sorted by capacity, >= 2 points
  double noc_j_per_byte = 0;
  std::map<std::string, double> dram_j_per_byte;  // "hbm", "ddr"
  StaticPowerTable static_power;

  // Per-byte access energy of an SRAM array of `capacity` bytes: piecewise
  // log-log interpolation between the anchors, extended past the ends along
  // the nearest segment (access energy grows roughly as √capacity [E1]).
  double sram_j_per_byte(Bytes capacity) const;
};

// Phase two of configuration: a parsed YAML document into a checked table.
// Errors are npusim::InputError naming file, line and YAML path.
TechTable resolve_tech_table(const ConfigNode& root);
TechTable load_tech_table(const std::string& path);

// Precision classes a table must price, in the order the YAML lists them.
const std::vector<std::string>& mac_precisions();
const std::vector<std::string>& vector_precisions();

// Maps a dtype name as the machine reports it ("fp8_e4m3", "mxint8") to the
// precision class the table prices ("fp8", "int8"). Unknown names map to
// themselves, so a table lookup then fails with a clear message.
std::string precision_class(const std::string& dtype_name);

}  // namespace npusim::stats
