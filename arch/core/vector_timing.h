#pragma once
// Vector unit timing, pure C++. A vector instruction runs in repeats: each
// repeat covers `width` bytes of its operand (8 x 32 B blocks on Ascend), so
// fp32 work takes twice the repeats of fp16 for the same element count. Each
// repeat costs a per-op number of cycles (exp and rsqrt cost more than add).
// Dequantize and decompress have their own throughput in output elements per
// cycle.
#include <optional>
#include <string>

#include "arch/core/core_config.h"
#include "arch/isa.h"

namespace npusim::arch {

const char* vector_op_name(VectorOpKind kind);
std::optional<VectorOpKind> vector_op_from_name(const std::string& name);

// Repeats an instruction over `elements` of `dtype` needs.
std::uint64_t vector_repeats(const VectorUnitConfig& unit, std::uint64_t elements, DType dtype);

// Cycles per repeat for an op on a dtype: "kind.dtype", then "kind", then "default".
double vector_cycles_per_repeat(const VectorUnitConfig& unit, VectorOpKind kind, DType dtype);

Cycles vector_cycles(const VectorUnitConfig& unit, VectorOpKind kind, std::uint64_t elements, DType dtype);

}  // namespace npusim::arch
