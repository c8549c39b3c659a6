#pragma once
// The vector passes each element-wise op kind makes over its data, shared by
// every lowering that puts such an op on the vector pipes.
#include <vector>

#include "mapper/vector/vector_lowering.h"
#include "workloads/graph.h"

namespace npusim::mapper {

std::vector<VectorPass> vector_passes_for(const workloads::Op& op);

}  // namespace npusim::mapper
