#pragma once
// The split-core (A2) data path of a weight the cube cannot read as stored
// (GemmProblem::b_expand_passes). The AIC and its AIVs share nothing but GM
// (hardware-facts 1.3: "On A2, AIC and AIV exchange data through GM"), so
// the AIVs cannot expand a panel in the AIC's L1. Instead, panel by panel
// in the order the AIC's MTE2 wants them:
//
//   AIV (each takes its share of the panel's elements):
//     MTE2 loads the stored (compressed) bytes from GM into UB, the vector
//     unit expands them, MTE3 stores the dense panel into a slot of the
//     core's GM workspace, then raises kExpandedPanelEvent to the AIC;
//   AIC: MTE2 waits for every AIV's share, loads the dense panel from the
//     slot into L1 (the slot was just written, so it is an L2 hit), and
//     raises kSlotFreeEvent to every AIV once the panel is in L1.
//
// The AIVs may run up to kExpansionSlots panels ahead (back-pressure by the
// free events, which start with one token per slot). HBM sees the stored
// bytes (the AIVs' reads); the AIC's port carries dense bytes; the dense
// workspace stays in L2, constantly reused.
#include <cstdint>
#include <vector>

#include "arch/isa.h"
#include "mapper/gemm/gemm.h"
#include "mapper/machine_view.h"

namespace npusim::mapper {

inline constexpr int kExpansionSlots = 3;
// Cross-core event ids between an AIC and each of its AIVs.
inline constexpr std::uint8_t kExpandedPanelEvent = 0;  // AIV -> AIC: its share of a panel is in the slot
inline constexpr std::uint8_t kSlotFreeEvent = 1;       // AIC -> AIV: the slot's panel is in L1

// A slot holds one dense B panel; a streamed tiling double-buffers its B
// panels in L1 and a resident strip holds at least two, so half of L1
// bounds any panel a valid tiling loads.
Bytes gemm_expansion_slot_bytes(const MachineView& machine);
Bytes gemm_expansion_workspace_per_core(const MachineView& machine);
Bytes gemm_expansion_workspace_bytes(const MachineView& machine);

// AIVs that expand for one AIC.
int expanding_vector_cores_per_cube(const MachineView& machine);

// One B panel the AIC loads, in the order it loads them.
struct ExpandedPanel {
  std::uint64_t stored_address = 0;  // the panel's stored bytes in GM
  std::uint64_t elements = 0;        // K x N elements of the panel
  std::uint64_t slot_address = 0;    // where its dense form goes
};

// Where the turn-th panel of `core` goes in the workspace, for panels of at
// most `panel_bytes` dense bytes.
std::uint64_t expansion_slot_address(const GemmProblem& problem, const MachineView& machine, int core,
                                     std::uint64_t turn, Bytes panel_bytes);

// The AIC side: tokens for every free slot, before its first load.
void emit_expansion_tokens(const MachineView& machine, std::uint32_t tag, std::vector<arch::Instruction>& aic);
// The AIC side of one panel: wait for every AIV's share, load the dense
// panel (`load`, whose source address is set here) and free the slot.
void emit_expanded_panel_load(const MachineView& machine, const ExpandedPanel& panel, arch::Instruction load,
                              std::uint32_t tag, std::vector<arch::Instruction>& aic);
// The AIVs' side of every panel of `core`, appended to their programs.
void emit_b_expansion(const GemmProblem& problem, const std::vector<ExpandedPanel>& panels,
                      const MachineView& machine, int core, std::uint32_t tag, arch::Program& program);

}  // namespace npusim::mapper
