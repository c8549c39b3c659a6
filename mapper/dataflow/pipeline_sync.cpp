#include "mapper/dataflow/pipeline_sync.h"

#include <algorithm>

#include <fmt/format.h>

namespace npusim::mapper::pipeline {
namespace {

using arch::Buffer;
using arch::Instruction;
using arch::Opcode;
using arch::Pipe;

constexpr Bytes kFlagBytes = 32;  // one flag word, to arrive at or poll a barrier

Instruction flag_transfer(Opcode op, Pipe pipe, Buffer src, Buffer dst, std::uint64_t address, std::uint32_t tag) {
  Instruction in;
  in.op = op;
  in.pipe = pipe;
  in.src = src;
  in.dst = dst;
  in.bytes = kFlagBytes;
  in.gm_address = address;
  in.op_tag = tag;
  return in;
}

}  // namespace

int layer_count(const workloads::Graph& g) {
  int layers = 0;
  for (auto id : g.topological_order()) layers = std::max(layers, g.op(id).layer + 1);
  return layers;
}

std::vector<std::size_t> stage_of_ops(const workloads::Graph& g, int layers, std::size_t stages) {
  std::vector<std::size_t> stage(g.num_ops(), 0);
  bool seen_layer = false;
  for (auto id : g.topological_order()) {
    const int layer = g.op(id).layer;
    if (layer >= 0) {
      seen_layer = true;
      stage[id] = static_cast<std::size_t>(layer) * stages / static_cast<std::size_t>(layers);
    } else {
      stage[id] = seen_layer ? stages - 1 : 0;
    }
  }
  return stage;
}

MachineView stage_view(const MachineView& m, std::size_t stages) {
  MachineView v = m;
  v.cube_cores = m.cube_cores / static_cast<int>(stages);
  v.vector_cores = m.split_cores ? m.vector_cores / static_cast<int>(stages) : 0;
  return v;
}

std::uint32_t arrivals_per_op(const MachineView& m, std::size_t stages) {
  const MachineView sub = stage_view(m, stages);
  return static_cast<std::uint32_t>(m.split_cores ? sub.cube_cores + sub.vector_cores : 2 * sub.cube_cores);
}

void wait_at(std::vector<Instruction>& code, bool cube_core, std::uint64_t barrier, std::uint32_t tag) {
  code.push_back(flag_transfer(Opcode::load, Pipe::mte2, Buffer::gm, cube_core ? Buffer::l1 : Buffer::ub, barrier, tag));
}

void arrive_at(std::vector<Instruction>& code, bool split, bool cube_core, std::uint64_t barrier, std::uint32_t tag) {
  if (cube_core) {
    Instruction arrive = flag_transfer(Opcode::fixpipe, Pipe::fixpipe, Buffer::l0c, Buffer::gm, barrier, tag);
    arrive.dtype = DType::fp32;
    arrive.out_dtype = DType::fp16;
    code.push_back(arrive);
  }
  if (!cube_core || !split) code.push_back(flag_transfer(Opcode::store, Pipe::mte3, Buffer::ub, Buffer::gm, barrier, tag));
}

double barrier_seconds(const MachineView& m) { return 2.0 * m.gm_hit_latency_cycles / m.core_clock_hz; }

std::string activations_off_chip(const workloads::Graph& g, const MachineView& m) {
  const double budget = 0.5 * static_cast<double>(m.sram_capacity > 0 ? m.sram_capacity : m.l2_capacity);
  for (auto id : g.topological_order()) {
    const auto& op = g.op(id);
    const double act = static_cast<double>(op.bytes_read.activation + op.bytes_written.activation);
    if (act > budget) {
      return fmt::format("op '{}' moves {:.0f} B of activations, more than the {:.0f} B on chip", op.name, act, budget);
    }
  }
  return {};
}

std::vector<int> layer_of_ops(const workloads::Graph& g, int layers) {
  std::vector<int> of(g.num_ops(), 0);
  bool seen_layer = false;
  for (auto id : g.topological_order()) {
    const int layer = g.op(id).layer;
    seen_layer = seen_layer || layer >= 0;
    of[id] = layer >= 0 ? layer : seen_layer ? layers - 1 : 0;
  }
  return of;
}

std::vector<LayerSegment> cut_into_segments(const std::vector<std::uint64_t>& layer_instructions, std::uint64_t cap) {
  std::uint64_t total = 0;
  for (auto n : layer_instructions) total += n;
  const std::size_t layers = layer_instructions.size();
  for (std::size_t jobs = static_cast<std::size_t>((total + cap - 1) / cap); jobs <= layers; ++jobs) {
    // A layer goes to the job its middle instruction falls in at an even split.
    std::vector<LayerSegment> segments;
    std::uint64_t before = 0;
    std::size_t last_job = 0;
    bool fits = true;
    for (std::size_t l = 0; l < layers; ++l) {
      const double middle = static_cast<double>(before) + static_cast<double>(layer_instructions[l]) / 2.0;
      const auto job = std::min(jobs - 1, static_cast<std::size_t>(middle * static_cast<double>(jobs) /
                                                                   static_cast<double>(total)));
      if (segments.empty() || job != last_job) {
        LayerSegment seg;
        seg.first_layer = static_cast<int>(l);
        segments.push_back(seg);
        last_job = job;
      }
      segments.back().last_layer = static_cast<int>(l);
      segments.back().instructions += layer_instructions[l];
      fits = fits && segments.back().instructions <= cap;
      before += layer_instructions[l];
    }
    if (fits) return segments;
  }
  std::vector<LayerSegment> one_each(layers);
  for (std::size_t l = 0; l < layers; ++l) {
    one_each[l].first_layer = one_each[l].last_layer = static_cast<int>(l);
    one_each[l].instructions = layer_instructions[l];
  }
  return one_each;
}

}  // namespace npusim::mapper::pipeline
