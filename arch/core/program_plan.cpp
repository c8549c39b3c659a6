#include "arch/core/program_plan.h"

#include <cmath>

#include <fmt/format.h>

#include "arch/core/cube_timing.h"
#include "arch/core/transfer_timing.h"
#include "arch/core/vector_timing.h"
#include "common/error.h"

namespace npusim::arch {

namespace {

Bytes bytes_of(std::uint64_t elements, DType dtype) {
  return static_cast<Bytes>(std::ceil(static_cast<double>(elements) * dtype_bits(dtype) / 8.0));
}

class Checker {
 public:
  Checker(const CoreConfig& config, const CoreIdentity& core, std::size_t index, const Instruction& in)
      : config_(config), core_(core), index_(index), in_(in) {}

  [[noreturn]] void fail(const std::string& what) const {
    throw SimulationError(fmt::format("core {} ({}): instruction {} ({}): {}", core_.name,
                                      core_role_name(core_.role), index_, opcode_name(in_.op), what));
  }

  void pipe_exists(Pipe pipe) const {
    if (!role_has_pipe(core_.role, pipe)) {
      fail(fmt::format("pipe {} does not exist on an {}", pipe_name(pipe), core_role_name(core_.role)));
    }
  }

  void buffer_is(Buffer actual, std::initializer_list<Buffer> allowed, const char* side) const {
    for (Buffer b : allowed) {
      if (b == actual) {
        if (!role_has_buffer(core_.role, actual)) {
          fail(fmt::format("buffer {} does not exist on an {}", buffer_name(actual), core_role_name(core_.role)));
        }
        return;
      }
    }
    fail(fmt::format("{} buffer {} is not valid for this opcode", side, buffer_name(actual)));
  }

  void window(Buffer buffer, std::uint64_t offset, Bytes bytes) const {
    const Bytes capacity = config_.capacity(buffer);
    if (offset + bytes > capacity) {
      fail(fmt::format("buffer overflow: window [{}, {}) of {} exceeds its capacity of {} B", offset,
                       offset + bytes, buffer_name(buffer), capacity));
    }
  }

  void flag_id() const {
    if (in_.event_id >= config_.event_ids) {
      fail(fmt::format("event id {} out of range (this core has {} per pipe pair)", in_.event_id,
                       config_.event_ids));
    }
  }

  void partner() const {
    if (in_.partner < 0 || in_.partner >= core_.group_size || in_.partner == core_.index_in_group) {
      fail(fmt::format("cross-core partner {} is not another core of this group (cores 0..{}, this is {})",
                       in_.partner, core_.group_size - 1, core_.index_in_group));
    }
  }

 private:
  const CoreConfig& config_;
  const CoreIdentity& core_;
  std::size_t index_;
  const Instruction& in_;
};

}  // namespace

PlannedInstruction plan_instruction(const CoreConfig& cfg, const CoreIdentity& core, std::size_t index,
                                    const Instruction& in) {
  const Checker check(cfg, core, index, in);
  PlannedInstruction p;
  p.pipe = pipe_of(in.op);
  switch (in.op) {
    case Opcode::load:
      check.buffer_is(in.src, {Buffer::gm}, "source");
      check.buffer_is(in.dst, {Buffer::l1, Buffer::ub}, "destination");
      check.window(in.dst, in.dst_offset, in.bytes);
      p.action = Action::gm_read;
      p.gm_Bpc = cfg.paths.mte2_gm_Bpc;
      break;
    case Opcode::load_l0:
      check.buffer_is(in.src, {Buffer::l1}, "source");
      check.buffer_is(in.dst, {Buffer::l0a, Buffer::l0b, Buffer::bias_table}, "destination");
      if (in.dst == Buffer::bias_table) {
        // The copy widens each bias from `dtype` in L1 to the accumulators'
        // `out_dtype` (asc_copy_l12bt's on-the-way conversion); `bytes` is
        // what lands in the table.
        const std::uint64_t elements = static_cast<std::uint64_t>(
            std::ceil(static_cast<double>(in.bytes) * 8.0 / dtype_bits(in.out_dtype)));
        check.window(Buffer::l1, in.src_offset, bytes_of(elements, in.dtype));
        check.window(Buffer::bias_table, in.dst_offset, in.bytes);
        p.cycles = transfer_cycles(in.bytes, cfg.paths.l1_to_bias_table_Bpc);
        break;
      }
      check.window(in.src, in.src_offset, in.bytes);
      check.window(in.dst, in.dst_offset, in.bytes);
      p.cycles = transfer_cycles(in.bytes, in.dst == Buffer::l0a ? cfg.paths.l1_to_l0a_Bpc : cfg.paths.l1_to_l0b_Bpc);
      break;
    case Opcode::mmad: {
      check.pipe_exists(Pipe::cube);
      if (in.m == 0 || in.k == 0 || in.n == 0) check.fail(fmt::format("empty shape {}x{}x{}", in.m, in.k, in.n));
      if (!cfg.cube_shape(in.dtype)) {
        check.fail(fmt::format("precision {} is not supported by the cube (no shape configured under core.cube)",
                               dtype_name(in.dtype)));
      }
      check.window(Buffer::l0a, in.src_offset, bytes_of(std::uint64_t{in.m} * in.k, in.dtype));
      check.window(Buffer::l0b, in.src2_offset, cube_l0b_bytes(cfg, in.k, in.n, in.dtype, in.sparsity));
      check.window(Buffer::l0c, in.dst_offset, cube_l0c_bytes(in.m, in.n));
      if (in.bias_init) {
        if (in.accumulate) check.fail("an mmad cannot both accumulate and start from the bias table");
        if (!role_has_buffer(core.role, Buffer::bias_table)) {
          check.fail(fmt::format("buffer BT does not exist on an {}", core_role_name(core.role)));
        }
        // One 32-bit initial value per output column; the cube reads it as
        // it starts the accumulation, at no cycles of its own.
        check.window(Buffer::bias_table, in.bias_offset, std::uint64_t{in.n} * 4);
      }
      p.cycles = cube_cycles(cfg, in.m, in.k, in.n, in.dtype, in.sparsity);
      break;
    }
    case Opcode::vector_op: {
      check.pipe_exists(Pipe::vector);
      check.buffer_is(Buffer::ub, {Buffer::ub}, "working");
      const bool converts = in.vector_kind == VectorOpKind::cast || in.vector_kind == VectorOpKind::dequantize ||
                            in.vector_kind == VectorOpKind::quantize || in.vector_kind == VectorOpKind::decompress;
      // A decompress reads a compressed stream whose size the program states in `bytes`.
      const Bytes src_bytes = in.vector_kind == VectorOpKind::decompress && in.bytes > 0
                                  ? in.bytes : bytes_of(in.elements, in.dtype);
      check.window(Buffer::ub, in.src_offset, src_bytes);
      check.window(Buffer::ub, in.dst_offset, bytes_of(in.elements, converts ? in.out_dtype : in.dtype));
      p.cycles = vector_cycles(cfg.vector, in.vector_kind, in.elements, in.dtype);
      break;
    }
    case Opcode::fixpipe: {
      check.buffer_is(in.src, {Buffer::l0c}, "source");
      check.buffer_is(in.dst, {Buffer::gm, Buffer::l1}, "destination");
      // `bytes` is what lands at the destination in out_dtype; L0C holds the
      // same elements as 32-bit accumulators.
      const std::uint64_t elements = static_cast<std::uint64_t>(
          std::ceil(static_cast<double>(in.bytes) * 8.0 / dtype_bits(in.out_dtype)));
      check.window(Buffer::l0c, in.src_offset, elements * 4);
      if (in.dst == Buffer::l1) {
        check.window(Buffer::l1, in.dst_offset, in.bytes);
        p.cycles = transfer_cycles(in.bytes, cfg.paths.fixpipe_out_Bpc);
      } else {
        p.action = Action::gm_write;
        p.gm_Bpc = cfg.paths.fixpipe_out_Bpc;
      }
      break;
    }
    case Opcode::move_l0c_ub: {
      check.buffer_is(in.src, {Buffer::l0c}, "source");
      check.buffer_is(in.dst, {Buffer::ub}, "destination");
      const std::uint64_t elements = static_cast<std::uint64_t>(
          std::ceil(static_cast<double>(in.bytes) * 8.0 / dtype_bits(in.out_dtype)));
      check.window(Buffer::l0c, in.src_offset, elements * 4);
      check.window(Buffer::ub, in.dst_offset, in.bytes);
      p.cycles = transfer_cycles(in.bytes, cfg.paths.l0c_to_ub_Bpc);
      break;
    }
    case Opcode::store:
      check.buffer_is(in.src, {Buffer::ub}, "source");
      check.buffer_is(in.dst, {Buffer::gm}, "destination");
      check.window(Buffer::ub, in.src_offset, in.bytes);
      p.action = Action::gm_write;
      p.gm_Bpc = cfg.paths.mte3_Bpc;
      break;
    case Opcode::set_flag:
    case Opcode::wait_flag:
      check.pipe_exists(in.flag_src);
      check.pipe_exists(in.flag_dst);
      if (in.flag_src == in.flag_dst) check.fail(fmt::format("flag from pipe {} to itself", pipe_name(in.flag_src)));
      check.flag_id();
      p.pipe = in.op == Opcode::set_flag ? in.flag_src : in.flag_dst;
      p.action = in.op == Opcode::set_flag ? Action::set_flag : Action::wait_flag;
      break;
    case Opcode::cross_set:
    case Opcode::cross_wait:
      check.partner();
      check.flag_id();
      p.pipe = in.pipe;  // the program names the pipe that raises or waits
      p.action = in.op == Opcode::cross_set ? Action::cross_set : Action::cross_wait;
      break;
    case Opcode::barrier:
      p.pipe = Pipe::scalar;
      p.action = Action::barrier;
      break;
  }
  check.pipe_exists(p.pipe);
  return p;
}

std::vector<PlannedInstruction> plan_program(const CoreConfig& config, const CoreIdentity& core,
                                             const CoreProgram& program) {
  std::vector<PlannedInstruction> plan;
  plan.reserve(program.instructions.size());
  for (std::size_t i = 0; i < program.instructions.size(); ++i) {
    plan.push_back(plan_instruction(config, core, i, program.instructions[i]));
  }
  return plan;
}

}  // namespace npusim::arch
