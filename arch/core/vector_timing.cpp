#include "arch/core/vector_timing.h"

#include <cmath>

namespace npusim::arch {

namespace {
constexpr VectorOpKind kAllKinds[] = {
    VectorOpKind::add,        VectorOpKind::mul,  VectorOpKind::exp,      VectorOpKind::reduce_max,
    VectorOpKind::reduce_sum, VectorOpKind::rsqrt, VectorOpKind::silu,    VectorOpKind::gelu,
    VectorOpKind::copy,       VectorOpKind::cast, VectorOpKind::dequantize, VectorOpKind::decompress,
    VectorOpKind::quantize,   VectorOpKind::compare, VectorOpKind::gather_mask, VectorOpKind::relu,
};
}  // namespace

const char* vector_op_name(VectorOpKind kind) {
  switch (kind) {
    case VectorOpKind::add: return "add";
    case VectorOpKind::mul: return "mul";
    case VectorOpKind::exp: return "exp";
    case VectorOpKind::reduce_max: return "reduce_max";
    case VectorOpKind::reduce_sum: return "reduce_sum";
    case VectorOpKind::rsqrt: return "rsqrt";
    case VectorOpKind::silu: return "silu";
    case VectorOpKind::gelu: return "gelu";
    case VectorOpKind::copy: return "copy";
    case VectorOpKind::cast: return "cast";
    case VectorOpKind::dequantize: return "dequantize";
    case VectorOpKind::decompress: return "decompress";
    case VectorOpKind::quantize: return "quantize";
    case VectorOpKind::compare: return "compare";
    case VectorOpKind::gather_mask: return "gather_mask";
    case VectorOpKind::relu: return "relu";
  }
  return "?";
}

std::optional<VectorOpKind> vector_op_from_name(const std::string& name) {
  for (VectorOpKind k : kAllKinds) {
    if (name == vector_op_name(k)) return k;
  }
  return std::nullopt;
}

std::uint64_t vector_repeats(const VectorUnitConfig& unit, std::uint64_t elements, DType dtype) {
  const double bytes = std::ceil(static_cast<double>(elements) * dtype_bits(dtype) / 8.0);
  return ceil_div(static_cast<std::uint64_t>(bytes), unit.width);
}

double vector_cycles_per_repeat(const VectorUnitConfig& unit, VectorOpKind kind, DType dtype) {
  const std::string kind_name = vector_op_name(kind);
  for (const std::string& key : {kind_name + "." + dtype_name(dtype), kind_name, std::string("default")}) {
    auto it = unit.cycles_per_repeat.find(key);
    if (it != unit.cycles_per_repeat.end()) return it->second;
  }
  return 1.0;  // unreachable for a resolved config: the resolver requires "default"
}

Cycles vector_cycles(const VectorUnitConfig& unit, VectorOpKind kind, std::uint64_t elements, DType dtype) {
  if (elements == 0) return 0;
  if (kind == VectorOpKind::dequantize) {
    return static_cast<Cycles>(std::ceil(static_cast<double>(elements) / unit.dequantize_elements_per_cycle));
  }
  if (kind == VectorOpKind::decompress) {
    return static_cast<Cycles>(std::ceil(static_cast<double>(elements) / unit.decompress_elements_per_cycle));
  }
  const double cycles = static_cast<double>(vector_repeats(unit, elements, dtype)) *
                        vector_cycles_per_repeat(unit, kind, dtype);
  return static_cast<Cycles>(std::ceil(cycles - 1e-9));
}

}  // namespace npusim::arch
