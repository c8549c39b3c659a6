#pragma once
// What a core of each role has: its pipes and its buffers. A split (A2) core
// group is one AIC (cube role) and its AIVs (vector role); a coupled core
// (910/310P) has everything.
#include "arch/isa.h"

namespace npusim::arch {

enum class CoreRole { cube, vector, coupled };

inline const char* core_role_name(CoreRole role) {
  switch (role) {
    case CoreRole::cube: return "AIC";
    case CoreRole::vector: return "AIV";
    case CoreRole::coupled: return "coupled core";
  }
  return "?";
}

inline bool role_has_pipe(CoreRole role, Pipe pipe) {
  switch (role) {
    case CoreRole::cube:
      return pipe == Pipe::scalar || pipe == Pipe::mte1 || pipe == Pipe::mte2 || pipe == Pipe::cube ||
             pipe == Pipe::fixpipe;
    case CoreRole::vector:
      return pipe == Pipe::scalar || pipe == Pipe::mte2 || pipe == Pipe::mte3 || pipe == Pipe::vector;
    case CoreRole::coupled: return true;
  }
  return false;
}

inline bool role_has_buffer(CoreRole role, Buffer buffer) {
  switch (role) {
    case CoreRole::cube: return buffer != Buffer::ub;
    case CoreRole::vector: return buffer == Buffer::gm || buffer == Buffer::ub;
    case CoreRole::coupled: return true;
  }
  return false;
}

}  // namespace npusim::arch
