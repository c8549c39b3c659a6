#pragma once
// Shared by the core tests and bench/bench_core.cpp: a config from YAML text
// and a double-buffered GEMM program for one AIC.
#include <algorithm>
#include <string>

#include "arch/core/core_config.h"
#include "arch/isa.h"
#include "common/config_node.h"
#include "sim/config/block_resolvers.h"

namespace npusim::arch::test {

// `core_yaml` is the body of a `core:` section ("{}" for all defaults).
inline CoreConfig config_from_yaml(const std::string& core_yaml) {
  return resolve_core_config(ConfigNode::load_string(core_yaml, "test"));
}

inline Instruction flag(Opcode op, Pipe src, Pipe dst, std::uint8_t id) {
  Instruction in;
  in.op = op;
  in.flag_src = src;
  in.flag_dst = dst;
  in.event_id = id;
  return in;
}
inline Instruction set_flag(Pipe src, Pipe dst, std::uint8_t id) { return flag(Opcode::set_flag, src, dst, id); }
inline Instruction wait_flag(Pipe src, Pipe dst, std::uint8_t id) { return flag(Opcode::wait_flag, src, dst, id); }

inline Instruction cross(Opcode op, Pipe pipe, int partner, std::uint8_t id) {
  Instruction in;
  in.op = op;
  in.pipe = pipe;
  in.partner = partner;
  in.event_id = id;
  return in;
}

inline Instruction gm_load(std::uint64_t address, Bytes bytes, Buffer dst, std::uint32_t offset) {
  Instruction in;
  in.op = Opcode::load;
  in.src = Buffer::gm;
  in.dst = dst;
  in.gm_address = address;
  in.bytes = bytes;
  in.dst_offset = offset;
  return in;
}

inline Instruction l1_to_l0(Bytes bytes, std::uint32_t src_offset, Buffer dst, std::uint32_t dst_offset) {
  Instruction in;
  in.op = Opcode::load_l0;
  in.src = Buffer::l1;
  in.dst = dst;
  in.bytes = bytes;
  in.src_offset = src_offset;
  in.dst_offset = dst_offset;
  return in;
}

inline Instruction mmad(std::uint32_t m, std::uint32_t k, std::uint32_t n, DType dtype, bool accumulate,
                        std::uint32_t a_offset = 0, std::uint32_t b_offset = 0) {
  Instruction in;
  in.op = Opcode::mmad;
  in.m = m;
  in.k = k;
  in.n = n;
  in.dtype = dtype;
  in.accumulate = accumulate;
  in.src_offset = a_offset;
  in.src2_offset = b_offset;
  return in;
}

inline Instruction vector_op(VectorOpKind kind, std::uint64_t elements, DType dtype, std::uint32_t src_offset = 0,
                             std::uint32_t dst_offset = 0) {
  Instruction in;
  in.op = Opcode::vector_op;
  in.vector_kind = kind;
  in.elements = elements;
  in.dtype = dtype;
  in.out_dtype = dtype;
  in.src_offset = src_offset;
  in.dst_offset = dst_offset;
  return in;
}

inline Instruction fixpipe_to_gm(std::uint64_t address, Bytes bytes, DType out) {
  Instruction in;
  in.op = Opcode::fixpipe;
  in.src = Buffer::l0c;
  in.dst = Buffer::gm;
  in.gm_address = address;
  in.bytes = bytes;
  in.out_dtype = out;
  return in;
}

inline Instruction store(std::uint64_t address, Bytes bytes, std::uint32_t ub_offset = 0) {
  Instruction in;
  in.op = Opcode::store;
  in.src = Buffer::ub;
  in.dst = Buffer::gm;
  in.gm_address = address;
  in.bytes = bytes;
  in.src_offset = ub_offset;
  return in;
}

struct GemmTile {
  std::uint32_t m = 128, k = 128, n = 128;
  DType dtype = DType::fp16;
  Bytes a_bytes() const { return Bytes{m} * k * static_cast<Bytes>(dtype_bits(dtype)) / 8; }
  Bytes b_bytes() const { return Bytes{k} * n * static_cast<Bytes>(dtype_bits(dtype)) / 8; }
  Bytes c_bytes_fp16() const { return Bytes{m} * n * 2; }
};

// An AIC program accumulating `iterations` K-slices into one L0C tile with
// ping-pong buffers in L1 and L0A/L0B: MTE2 loads slice i+1 while MTE1 moves
// slice i and the cube multiplies slice i-1, ordered only by event flags
// (ids 0 and 1 are the two buffers), then FixPipe writes the tile to GM.
inline CoreProgram double_buffered_gemm(const GemmTile& t, int iterations, std::uint64_t gm_base) {
  CoreProgram prog;
  auto& out = prog.instructions;
  const auto a = static_cast<std::uint32_t>(t.a_bytes());
  const auto b = static_cast<std::uint32_t>(t.b_bytes());
  for (int i = 0; i < iterations; ++i) {
    const auto buf = static_cast<std::uint8_t>(i % 2);
    const std::uint64_t slice = gm_base + static_cast<std::uint64_t>(i) * (a + b);
    if (i >= 2) out.push_back(wait_flag(Pipe::mte1, Pipe::mte2, buf));
    out.push_back(gm_load(slice, a, Buffer::l1, buf * a));
    out.push_back(gm_load(slice + a, b, Buffer::l1, 2 * a + buf * b));
    out.push_back(set_flag(Pipe::mte2, Pipe::mte1, buf));

    out.push_back(wait_flag(Pipe::mte2, Pipe::mte1, buf));
    if (i >= 2) out.push_back(wait_flag(Pipe::cube, Pipe::mte1, buf));
    out.push_back(l1_to_l0(a, buf * a, Buffer::l0a, buf * a));
    out.push_back(l1_to_l0(b, 2 * a + buf * b, Buffer::l0b, buf * b));
    out.push_back(set_flag(Pipe::mte1, Pipe::mte2, buf));
    out.push_back(set_flag(Pipe::mte1, Pipe::cube, buf));

    out.push_back(wait_flag(Pipe::mte1, Pipe::cube, buf));
    out.push_back(mmad(t.m, t.k, t.n, t.dtype, i > 0, buf * a, buf * b));
    out.push_back(set_flag(Pipe::cube, Pipe::mte1, buf));
  }
  // Consume the flags of the last two iterations so the job ends balanced.
  for (int i = std::max(0, iterations - 2); i < iterations; ++i) {
    const auto buf = static_cast<std::uint8_t>(i % 2);
    out.push_back(wait_flag(Pipe::mte1, Pipe::mte2, buf));
    out.push_back(wait_flag(Pipe::cube, Pipe::mte1, buf));
  }
  out.push_back(set_flag(Pipe::cube, Pipe::fixpipe, 0));
  out.push_back(wait_flag(Pipe::cube, Pipe::fixpipe, 0));
  out.push_back(fixpipe_to_gm(gm_base + static_cast<std::uint64_t>(iterations) * (a + b), t.c_bytes_fp16(),
                              DType::fp16));
  return prog;
}

}  // namespace npusim::arch::test
