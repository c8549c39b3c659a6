#include "mapper/gemm/gemm_expansion.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "common/error.h"
#include "mapper/flags.h"

namespace npusim::mapper {
namespace {

using arch::Buffer;
using arch::Instruction;
using arch::Opcode;
using arch::Pipe;

constexpr Bytes kSlotAlignment = 512;

Instruction cross(Opcode op, Pipe pipe, int partner, std::uint8_t id, std::uint32_t tag) {
  return cross_flag_instruction(op, pipe, partner, id, tag);
}
Instruction flag(Opcode op, Pipe src, Pipe dst, std::uint8_t id, std::uint32_t tag) {
  return flag_instruction(op, src, dst, id, tag);
}
Bytes bytes_of(double elements, double per) { return static_cast<Bytes>(std::ceil(elements * per)); }

// The UB tiles one AIV streams a share through: the stored bytes in, the
// dense elements out, two slots each way (as vector_lowering does).
struct UbLayout {
  std::uint64_t tile = 0;
  Bytes in_slot = 0, out_slot = 0;
};
UbLayout ub_layout(const GemmProblem& p, const MachineView& m) {
  VectorProblem v;
  v.dtype = p.b_dtype;
  v.in_bytes_per_element = stored_b_bytes_per_element(p);
  v.out_bytes_per_element = element_bytes(p.b_dtype);
  UbLayout l;
  l.tile = vector_tile_elements(v, m);
  // A tile occupies at least a whole element each way in UB (vector_lowering.cpp).
  l.in_slot = bytes_of(static_cast<double>(l.tile), std::max(v.in_bytes_per_element, element_bytes(p.b_dtype)));
  l.out_slot = bytes_of(static_cast<double>(l.tile), element_bytes(p.b_dtype));
  return l;
}

}  // namespace

Bytes gemm_expansion_slot_bytes(const MachineView& machine) { return round_up(machine.l1 / 2, kSlotAlignment); }
Bytes gemm_expansion_workspace_per_core(const MachineView& machine) {
  return kExpansionSlots * gemm_expansion_slot_bytes(machine);
}
Bytes gemm_expansion_workspace_bytes(const MachineView& machine) {
  return gemm_expansion_workspace_per_core(machine) * static_cast<Bytes>(machine.cube_cores);
}

int expanding_vector_cores_per_cube(const MachineView& machine) {
  return machine.split_cores && machine.cube_cores > 0 ? machine.vector_cores / machine.cube_cores : 0;
}

std::uint64_t expansion_slot_address(const GemmProblem& p, const MachineView& m, int core, std::uint64_t turn,
                                     Bytes panel_bytes) {
  const Bytes stride = round_up(panel_bytes, kSlotAlignment);
  if (stride > gemm_expansion_slot_bytes(m)) {
    throw InputError(fmt::format("a dense B panel of {} B does not fit an expansion workspace slot of {} B",
                                 panel_bytes, gemm_expansion_slot_bytes(m)));
  }
  return p.b_workspace_address + static_cast<std::uint64_t>(core) * gemm_expansion_workspace_per_core(m) +
         (turn % kExpansionSlots) * stride;
}

void emit_expansion_tokens(const MachineView& machine, std::uint32_t tag, std::vector<Instruction>& aic) {
  for (int j = 0; j < expanding_vector_cores_per_cube(machine); ++j) {
    for (int s = 0; s < kExpansionSlots; ++s) aic.push_back(cross(Opcode::cross_set, Pipe::mte2, 1 + j, kSlotFreeEvent, tag));
  }
}

void emit_expanded_panel_load(const MachineView& machine, const ExpandedPanel& panel, Instruction load,
                              std::uint32_t tag, std::vector<Instruction>& aic) {
  const int aivs = expanding_vector_cores_per_cube(machine);
  for (int j = 0; j < aivs; ++j) aic.push_back(cross(Opcode::cross_wait, Pipe::mte2, 1 + j, kExpandedPanelEvent, tag));
  load.gm_address = panel.slot_address;
  aic.push_back(load);
  // MTE2's GM reads block until their data is in, so the slot is free as
  // soon as the pipe reaches the set.
  for (int j = 0; j < aivs; ++j) aic.push_back(cross(Opcode::cross_set, Pipe::mte2, 1 + j, kSlotFreeEvent, tag));
}

void emit_b_expansion(const GemmProblem& p, const std::vector<ExpandedPanel>& panels, const MachineView& m, int core,
                      std::uint32_t tag, arch::Program& program) {
  const int aivs = expanding_vector_cores_per_cube(m);
  if (aivs <= 0 || program.vector_cores.size() < static_cast<std::size_t>((core + 1) * aivs)) {
    throw InputError("expanding B through the GM workspace needs split cores with vector cores");
  }
  if (panels.empty()) return;
  const double stored = stored_b_bytes_per_element(p), dense = element_bytes(p.b_dtype);
  const UbLayout ub = ub_layout(p, m);
  for (int j = 0; j < aivs; ++j) {
    auto& code = program.vector_cores.at(static_cast<std::size_t>(core * aivs + j)).instructions;
    for (std::uint8_t s = 0; s < 2; ++s) code.push_back(flag(Opcode::set_flag, Pipe::vector, Pipe::mte2, s, tag));
    for (std::uint8_t s = 0; s < 2; ++s) code.push_back(flag(Opcode::set_flag, Pipe::mte3, Pipe::vector, s, tag));
    std::uint64_t turn = 0;
    for (const ExpandedPanel& panel : panels) {
      // Each AIV takes a contiguous share; both run every panel so the
      // AIC's per-panel waits stay balanced even when a share is empty.
      const std::uint64_t share = ceil_div(panel.elements, static_cast<std::uint64_t>(aivs));
      const std::uint64_t begin = std::min(panel.elements, share * static_cast<std::uint64_t>(j));
      const std::uint64_t end = std::min(panel.elements, begin + share);
      // The slot must be free before this panel's first store lands in it.
      code.push_back(cross(Opcode::cross_wait, Pipe::mte3, 0, kSlotFreeEvent, tag));
      for (std::uint64_t at = begin; at < end; at += ub.tile, ++turn) {
        const std::uint64_t elements = std::min(ub.tile, end - at);
        const std::uint8_t s = static_cast<std::uint8_t>(turn % 2);
        const auto ds = static_cast<double>(elements), dat = static_cast<double>(at);

        code.push_back(flag(Opcode::wait_flag, Pipe::vector, Pipe::mte2, s, tag));
        code.push_back(gm_transfer_instruction(Opcode::load, panel.stored_address + bytes_of(dat, stored),
                                               bytes_of(ds, stored), Buffer::ub,
                                               static_cast<std::uint32_t>(s * ub.in_slot), p.b_dtype, tag));
        code.push_back(flag(Opcode::set_flag, Pipe::mte2, Pipe::vector, s, tag));

        code.push_back(flag(Opcode::wait_flag, Pipe::mte2, Pipe::vector, s, tag));
        code.push_back(flag(Opcode::wait_flag, Pipe::mte3, Pipe::vector, s, tag));
        append_vector_passes(p.b_expand_passes, elements, p.b_dtype, static_cast<std::uint32_t>(s * ub.in_slot),
                             static_cast<std::uint32_t>(2 * ub.in_slot + s * ub.out_slot), bytes_of(ds, dense), tag,
                             code);
        code.push_back(flag(Opcode::set_flag, Pipe::vector, Pipe::mte2, s, tag));
        code.push_back(flag(Opcode::set_flag, Pipe::vector, Pipe::mte3, s, tag));

        code.push_back(flag(Opcode::wait_flag, Pipe::vector, Pipe::mte3, s, tag));
        code.push_back(gm_transfer_instruction(Opcode::store, panel.slot_address + bytes_of(dat, dense),
                                               bytes_of(ds, dense), Buffer::ub,
                                               static_cast<std::uint32_t>(2 * ub.in_slot + s * ub.out_slot),
                                               p.b_dtype, tag));
        code.push_back(flag(Opcode::set_flag, Pipe::mte3, Pipe::vector, s, tag));
      }
      // MTE3's stores block until written, so the share is in the slot.
      code.push_back(cross(Opcode::cross_set, Pipe::mte3, 0, kExpandedPanelEvent, tag));
    }
    for (std::uint8_t s = 0; s < 2; ++s) code.push_back(flag(Opcode::wait_flag, Pipe::vector, Pipe::mte2, s, tag));
    for (std::uint8_t s = 0; s < 2; ++s) code.push_back(flag(Opcode::wait_flag, Pipe::mte3, Pipe::vector, s, tag));
    for (int s = 0; s < kExpansionSlots; ++s) code.push_back(cross(Opcode::cross_wait, Pipe::mte3, 0, kSlotFreeEvent, tag));
  }
}

}  // namespace npusim::mapper
