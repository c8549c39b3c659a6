#pragma once
// Compression is data on the tensors (ARCHITECTURE.md). Generators leave
// every weight dense in the model's dtype and every KV cache contiguous at the
// activation dtype; the mapper's compression plan rewrites these fields. They
// are plain data so a plan can be applied, hashed and printed without knowing
// who reads it.
#include <cstdint>
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
};

enum class KvLayoutKind { contiguous, paged };

inline const char* kv_layout_name(KvLayoutKind k) { return k == KvLayoutKind::paged ? "paged" : "contiguous"; }

struct KvCacheFormat {
  KvLayoutKind layout = KvLayoutKind::contiguous;
  DType precision = DType::fp16;
  std::uint32_t block_tokens = 0;           // page size for paged layouts
  std::uint32_t group_size = 0;             // elements per quantization scale; 0 = none
  std::uint32_t full_precision_tokens = 0;  // pivot tokens kept unquantized (IntactKV)
  std::string tier;             // placement decided by the mapper; empty = not placed
};

}  // namespace npusim::workloads
