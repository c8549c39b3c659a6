#pragma once
// The instruction set the mapper emits and the AI cores execute. Plain data,
// no SystemC: mapper/ builds programs from it and tests can inspect them.
//
// Model: each core runs one instruction stream in program order. The scalar
// unit issues every instruction to the queue of its pipe; pipes run in
// parallel and consume their own queue in order. Ordering between pipes is
// only what the program states with flags (set_flag/wait_flag on a
// src->dst event id) and barriers, as on Ascend (hardware-facts 1.3).
#include <cstdint>
#include <string>
#include <vector>

#include "common/dtype.h"
#include "common/units.h"

namespace npusim::arch {

enum class Pipe : std::uint8_t { scalar, mte1, mte2, mte3, cube, vector, fixpipe };
inline constexpr int kPipeCount = 7;

enum class Buffer : std::uint8_t { gm, l1, l0a, l0b, l0c, ub, bias_table, fixpipe_buffer };
inline constexpr int kBufferCount = 8;

enum class Opcode : std::uint8_t {
  load,           // MTE2: GM -> L1 or UB
  load_l0,        // MTE1: L1 -> L0A, L0B or the bias table
  mmad,           // cube: L0A x L0B -> L0C (accumulate, overwrite, or start from the bias table)
  vector_op,      // vector: UB -> UB element-wise work
  fixpipe,        // FixPipe: L0C -> GM or L1, converting precision on the way
  store,          // MTE3: UB -> GM
  move_l0c_ub,    // FixPipe on coupled cores: L0C -> UB
  set_flag,       // the issuing pipe raises event (src_pipe -> dst_pipe, id)
  wait_flag,      // the waiting pipe blocks until that event is raised
  barrier,        // pipe_barrier(PIPE_ALL): every pipe drains first
  cross_set,      // raise a cross-core flag (FFTS) seen by a partner core
  cross_wait,     // block until a cross-core flag from a partner is raised
};

// Element-wise vector work. Cost per element differs by operation and dtype.
enum class VectorOpKind : std::uint8_t {
  add, mul, exp, reduce_max, reduce_sum, rsqrt, silu, gelu, copy, cast, dequantize, decompress, quantize,
  compare,      // vcmp against a threshold, writing a mask
  gather_mask,  // compaction of the elements a mask selects
  relu,
};

// Structured sparsity of the L0B (weight) operand as the cube consumes it.
enum class CubeSparsity : std::uint8_t { dense, sparse_2_4, sparse_4_8 };

// Fields are grouped by width (8-, 4-, then 1-byte) so the struct packs to
// 80 bytes: a layer-pipeline job holds tens of millions of these.
struct Instruction {
  // Transfers: GM address (global address space, see address_map.h) and
  // on-chip buffer placement. A transfer's buffer window is
  // [buffer_offset, buffer_offset + bytes) and must fit the buffer.
  std::uint64_t gm_address = 0;
  Bytes bytes = 0;
  // Vector: `elements` of `dtype` with operation `vector_kind`.
  std::uint64_t elements = 0;

  std::uint32_t src_offset = 0;
  std::uint32_t dst_offset = 0;
  // mmad only: L0B offset of the right operand (src_offset is the L0A
  // offset, dst_offset the L0C offset).
  std::uint32_t src2_offset = 0;
  // Cube: an M x K x N multiply-accumulate on one L0 tile.
  std::uint32_t m = 0, k = 0, n = 0;
  // mmad only, with accumulate false and bias_init set: L0C starts from the
  // bias row at bias_offset in the bias table (one 32-bit value per output
  // column) instead of from zero, as Ascend's Mmad with a bias does.
  std::uint32_t bias_offset = 0;
  // Flags: the event (flag_src -> flag_dst, event_id), or a cross-core flag
  // (partner core index within the core group, event_id).
  std::int32_t partner = -1;
  // Which graph op this instruction belongs to, for per-op stats and traces.
  std::uint32_t op_tag = 0;

  Opcode op = Opcode::barrier;
  Pipe pipe = Pipe::scalar;  // the pipe that executes it (derived from op except for flags)
  Buffer src = Buffer::gm;
  Buffer dst = Buffer::gm;
  DType dtype = DType::fp16;       // operand precision on the cube or vector unit
  DType out_dtype = DType::fp16;   // fixpipe/cast output precision
  CubeSparsity sparsity = CubeSparsity::dense;
  bool accumulate = false;
  bool bias_init = false;
  // fixpipe only: ReLU applied to the values on their way out of L0C, which
  // FixPipe does in the same pass (hardware-facts 1.3).
  bool relu = false;
  // FixPipe / MTE3 to GM: add into what GM holds instead of overwriting it
  // (Ascend's atomic-add mode, which split-K GEMMs combine partial sums
  // with). The L2 reads the line, adds and writes it back.
  bool atomic_add = false;
  VectorOpKind vector_kind = VectorOpKind::copy;
  Pipe flag_src = Pipe::scalar;
  Pipe flag_dst = Pipe::scalar;
  std::uint8_t event_id = 0;
};
static_assert(sizeof(Instruction) <= 80, "keep Instruction packed: programs hold tens of millions");

// One core's instruction stream for one job.
struct CoreProgram {
  std::vector<Instruction> instructions;
};

// What the machine runs in one job: a program per cube core (AIC) and per
// vector core (AIV). On coupled cores (910, 310P) vector_cores is empty and
// vector instructions go to the core's own vector pipe.
struct Program {
  std::vector<CoreProgram> cube_cores;
  std::vector<CoreProgram> vector_cores;
  std::vector<std::string> op_names;  // indexed by Instruction::op_tag
};

const char* pipe_name(Pipe pipe);
const char* buffer_name(Buffer buffer);
const char* opcode_name(Opcode op);
Pipe pipe_of(Opcode op);

}  // namespace npusim::arch
