#include "arch/isa.h"

namespace npusim::arch {

const char* pipe_name(Pipe pipe) {
  switch (pipe) {
    case Pipe::scalar: return "scalar";
    case Pipe::mte1: return "mte1";
    case Pipe::mte2: return "mte2";
    case Pipe::mte3: return "mte3";
    case Pipe::cube: return "cube";
    case Pipe::vector: return "vector";
    case Pipe::fixpipe: return "fixpipe";
  }
  return "?";
}

const char* buffer_name(Buffer buffer) {
  switch (buffer) {
    case Buffer::gm: return "GM";
    case Buffer::l1: return "L1";
    case Buffer::l0a: return "L0A";
    case Buffer::l0b: return "L0B";
    case Buffer::l0c: return "L0C";
    case Buffer::ub: return "UB";
    case Buffer::bias_table: return "BT";
    case Buffer::fixpipe_buffer: return "FB";
  }
  return "?";
}

const char* opcode_name(Opcode op) {
  switch (op) {
    case Opcode::load: return "load";
    case Opcode::load_l0: return "load_l0";
    case Opcode::mmad: return "mmad";
    case Opcode::vector_op: return "vector_op";
    case Opcode::fixpipe: return "fixpipe";
    case Opcode::store: return "store";
    case Opcode::move_l0c_ub: return "move_l0c_ub";
    case Opcode::set_flag: return "set_flag";
    case Opcode::wait_flag: return "wait_flag";
    case Opcode::barrier: return "barrier";
    case Opcode::cross_set: return "cross_set";
    case Opcode::cross_wait: return "cross_wait";
  }
  return "?";
}

Pipe pipe_of(Opcode op) {
  switch (op) {
    case Opcode::load: return Pipe::mte2;
    case Opcode::load_l0: return Pipe::mte1;
    case Opcode::mmad: return Pipe::cube;
    case Opcode::vector_op: return Pipe::vector;
    case Opcode::fixpipe:
    case Opcode::move_l0c_ub: return Pipe::fixpipe;
    case Opcode::store: return Pipe::mte3;
    case Opcode::set_flag:
    case Opcode::wait_flag:
    case Opcode::barrier:
    case Opcode::cross_set:
    case Opcode::cross_wait: return Pipe::scalar;
  }
  return Pipe::scalar;
}

}  // namespace npusim::arch
