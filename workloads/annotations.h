#pragma once
// Compression is data on the tensors (ARCHITECTURE.md). Generators leave
// every weight dense in the model's dtype and every KV cache contiguous at the
// activation dtype; the mapper's compression plan rewrites these fields. They
// are plain data so a plan can be applied, hashed and printed without knowing
// who reads it.
#include <cstdint>
#include <optional>
#include <string>

#include "common/dtype.h"

namespace npusim::workloads {

enum class SparsityPattern { dense, unstructured, n_m, block };
enum class StorageFormat { dense, bitmap, csr, n_m_compressed, block_sparse };

inline const char* sparsity_name(SparsityPattern p) {
  switch (p) {
    case SparsityPattern::dense: return "dense";
    case SparsityPattern::unstructured: return "unstructured";
    case SparsityPattern::n_m: return "n_m";
    case SparsityPattern::block: return "block";
  }
  return "?";
}

inline const char* storage_name(StorageFormat f) {
  switch (f) {
    case StorageFormat::dense: return "dense";
    case StorageFormat::bitmap: return "bitmap";
    case StorageFormat::csr: return "csr";
    case StorageFormat::n_m_compressed: return "n_m_compressed";
    case StorageFormat::block_sparse: return "block_sparse";
  }
  return "?";
}

struct WeightFormat {
  DType precision = DType::fp16;
  SparsityPattern sparsity = SparsityPattern::dense;
  double density = 1.0;        // kept fraction of elements; 1 for dense
  std::uint32_t n = 0, m = 0;  // N:M pattern, when sparsity is n_m
  StorageFormat storage = StorageFormat::dense;
  std::uint32_t group_size = 0;  // elements sharing one scale; 0 = no scales

  // Quantization detail (mapper/compression/storage.h prices these).
  bool zero_points = false;  // asymmetric: one zero point per group, at the value precision
  // The A operand of the matmuls reading this weight, as stored; unset = the
  // activation tensor's own dtype.
  std::optional<DType> activation;
  double activation_density = 1.0;  // nonzero fraction of A (activation sparsity)
  // Structured pruning: kept fraction of input (K) and output (N) channels.
  // Shapes shrink by these; 1 = unpruned.
  double kept_in = 1.0;
  double kept_out = 1.0;

  // Decided by the mapper against the machine when the plan is applied
  // (mapper/compression/apply_plan.h); defaults describe an unannotated weight.
  std::optional<DType> cube_precision;  // precision the cube computes at; unset = A's
  bool cube_sparse = false;             // the N:M pattern reaches a sparse cube
  // Vector-pipe passes per weight element to expand it before the cube:
  // 0 = nothing to do, 1 = the vector unit at its own rate; for decompress,
  // r = a decompression engine r times slower than the vector unit (timed on
  // the vector pipe, which has no other work while a GEMM runs).
  double dequantize_passes = 0;
  double decompress_passes = 0;
  // The decompression is done by an engine in the load path (the bytes a
  // core's port carries are the compressed ones), not by the vector unit.
  bool decompress_in_load_path = false;
};

enum class KvLayoutKind { contiguous, paged };
// Order of the cache in memory: token-major [token][head][dim] or head-major
// [head][token][dim]; it sets how long a contiguous run one head's read is.
enum class KvMajor { token, head };
enum class KvScaleGranularity { none, per_token, per_group };

inline const char* kv_layout_name(KvLayoutKind k) { return k == KvLayoutKind::paged ? "paged" : "contiguous"; }

struct KvCacheFormat {
  KvLayoutKind layout = KvLayoutKind::contiguous;
  DType precision = DType::fp16;
  std::uint32_t block_tokens = 0;           // page size for paged layouts
  std::uint32_t group_size = 0;             // elements per quantization scale; 0 = none
  std::uint32_t full_precision_tokens = 0;  // pivot tokens kept unquantized (IntactKV)
  std::string tier;             // placement decided by the mapper; empty = not placed

  KvMajor major = KvMajor::head;
  KvScaleGranularity scales = KvScaleGranularity::none;
  bool zero_points = false;  // one zero point per scale, at fp16
  bool prefetch = false;     // a DDR-resident cache is fetched a layer ahead
  // Decided when the plan is applied: vector passes per cached element to
  // dequantize it to the attention's compute precision (0 = none).
  double expand_passes = 0;
};

}  // namespace npusim::workloads
