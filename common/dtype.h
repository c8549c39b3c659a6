#pragma once
// Numeric formats shared by workloads (tensor dtypes), the mapper
// (compression plans) and the machine (cube rates per precision).
#include <cstdint>
#include <optional>
#include <string>

namespace npusim {

enum class DType : std::uint8_t { fp32, fp16, bf16, fp8_e4m3, fp8_e5m2, int32, int8, int4, mxfp4, mxint8 };

// Bits of one stored element, without block scales or metadata.
inline double dtype_bits(DType t) {
  switch (t) {
    case DType::fp32:
    case DType::int32: return 32;
    case DType::fp16:
    case DType::bf16: return 16;
    case DType::fp8_e4m3:
    case DType::fp8_e5m2:
    case DType::int8:
    case DType::mxint8: return 8;
    case DType::int4:
    case DType::mxfp4: return 4;
  }
  return 16;
}

inline const char* dtype_name(DType t) {
  switch (t) {
    case DType::fp32: return "fp32";
    case DType::fp16: return "fp16";
    case DType::bf16: return "bf16";
    case DType::fp8_e4m3: return "fp8_e4m3";
    case DType::fp8_e5m2: return "fp8_e5m2";
    case DType::int32: return "int32";
    case DType::int8: return "int8";
    case DType::int4: return "int4";
    case DType::mxfp4: return "mxfp4";
    case DType::mxint8: return "mxint8";
  }
  return "?";
}

inline std::optional<DType> dtype_from_name(const std::string& name) {
  for (DType t : {DType::fp32, DType::fp16, DType::bf16, DType::fp8_e4m3, DType::fp8_e5m2, DType::int32,
                  DType::int8, DType::int4, DType::mxfp4, DType::mxint8}) {
    if (name == dtype_name(t)) return t;
  }
  return std::nullopt;
}

inline const char* dtype_choices() {
  return "fp32 | fp16 | bf16 | fp8_e4m3 | fp8_e5m2 | int32 | int8 | int4 | mxfp4 | mxint8";
}

}  // namespace npusim
