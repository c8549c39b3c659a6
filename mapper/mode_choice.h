#pragma once
// Which execution mode a graph runs in, and why, in words that go into the
// run summary (RunResult::mapping_reason).
#include <string>

#include "mapper/dataflow/dataflow_mapper.h"

namespace npusim::mapper {

struct ModeChoice {
  bool dataflow = false;
  std::string reason;
};

// requested: "kernel", "dataflow" or "auto". `kernel_seconds` is the cost
// model's estimate of kernel-by-kernel execution. Throws InputError when
// dataflow is requested but does not apply.
ModeChoice choose_mode(const std::string& requested, double kernel_seconds, const DataflowMapping& dataflow);

}  // namespace npusim::mapper
