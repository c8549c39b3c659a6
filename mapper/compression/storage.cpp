#include "mapper/compression/storage.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace npusim::mapper {
namespace {

using workloads::KvCacheFormat;
using workloads::KvMajor;
using workloads::KvScaleGranularity;
using workloads::SparsityPattern;
using workloads::StorageFormat;
using workloads::WeightFormat;

double log2_ceil(std::uint64_t v) { return v <= 1 ? 0.0 : std::ceil(std::log2(static_cast<double>(v))); }

double round_to_block(double bytes) { return std::ceil(bytes / kDmaBlockBytes - 1e-9) * kDmaBlockBytes; }

// Bits of one quantized row of `d` elements, scales and zero points included.
double quantized_row_bits(const KvCacheFormat& f, std::uint64_t d) {
  const double per_scale = kFp16ScaleBits * (f.zero_points ? 2.0 : 1.0);
  double scale_total = 0;
  switch (f.scales) {
    case KvScaleGranularity::none: break;
    case KvScaleGranularity::per_token: scale_total = per_scale; break;
    case KvScaleGranularity::per_group: scale_total = per_scale * static_cast<double>(ceil_div(d, f.group_size)); break;
  }
  return static_cast<double>(d) * dtype_bits(f.precision) + scale_total;
}

}  // namespace

bool is_mx(DType t) { return t == DType::mxfp4 || t == DType::mxint8; }

bool is_integer(DType t) { return t == DType::int8 || t == DType::int4 || t == DType::int32; }

double scale_bits(DType precision) { return is_mx(precision) ? 8.0 : kFp16ScaleBits; }

double kept_fraction(const WeightFormat& f) {
  switch (f.sparsity) {
    case SparsityPattern::dense: return 1.0;
    case SparsityPattern::n_m: return static_cast<double>(f.n) / static_cast<double>(f.m);
    case SparsityPattern::unstructured:
    case SparsityPattern::block: return f.density;
  }
  return 1.0;
}

StorageBits weight_storage(const WeightFormat& f, std::uint64_t k, std::uint64_t n) {
  const double b = dtype_bits(f.precision);
  StorageBits s;
  // Dense storage keeps the zeros of a pruned tensor: every element is stored.
  const double d = f.storage == StorageFormat::dense ? 1.0 : kept_fraction(f);
  s.values = d * b;
  if (f.group_size > 0) {
    s.scales = scale_bits(f.precision) / f.group_size;
    if (f.zero_points) s.zero_points = b / f.group_size;
  }
  switch (f.storage) {
    case StorageFormat::dense: break;
    case StorageFormat::n_m_compressed: s.metadata = d * log2_ceil(f.m); break;
    case StorageFormat::bitmap: s.metadata = 1.0; break;
    case StorageFormat::csr:
      s.metadata = d * log2_ceil(k) + 32.0 * static_cast<double>(n + 1) / (static_cast<double>(k) * static_cast<double>(n));
      break;
    case StorageFormat::block_sparse:
      // No plan produces it (plan.cpp refuses the name); a caller that sets
      // it by hand gets told rather than a made-up size.
      throw std::invalid_argument("block_sparse storage has no size model; use bitmap, csr or n_m_compressed");
  }
  return s;
}

KvStorage kv_storage(const KvCacheFormat& f, DType full, std::uint64_t batch, std::uint64_t heads, std::uint64_t tokens,
                     std::uint64_t head_dim) {
  const std::uint64_t pivots = std::min<std::uint64_t>(f.full_precision_tokens, tokens);
  const double full_row = static_cast<double>(head_dim) * dtype_bits(full) / 8.0;
  const double quant_row = quantized_row_bits(f, head_dim) / 8.0;
  const double rows = static_cast<double>(batch * heads);

  KvStorage s;
  const double per_head_used = static_cast<double>(pivots) * full_row + static_cast<double>(tokens - pivots) * quant_row;
  s.used_bytes = rows * per_head_used;
  std::uint64_t allocated_tokens = tokens;
  if (f.layout == workloads::KvLayoutKind::paged && f.block_tokens > 0) allocated_tokens = round_up(tokens, f.block_tokens);
  s.allocated_bytes = s.used_bytes + rows * static_cast<double>(allocated_tokens - tokens) * quant_row;

  double per_head_moved = 0;
  if (f.major == KvMajor::token) {
    per_head_moved = static_cast<double>(pivots) * round_to_block(full_row) +
                     static_cast<double>(tokens - pivots) * round_to_block(quant_row);
  } else if (f.layout == workloads::KvLayoutKind::paged && f.block_tokens > 0) {
    for (std::uint64_t first = 0; first < tokens; first += f.block_tokens) {
      const std::uint64_t last = std::min<std::uint64_t>(tokens, first + f.block_tokens);
      const std::uint64_t full_rows = pivots > first ? std::min(pivots, last) - first : 0;
      per_head_moved += round_to_block(static_cast<double>(full_rows) * full_row +
                                       static_cast<double>(last - first - full_rows) * quant_row);
    }
  } else {
    per_head_moved = round_to_block(per_head_used);
  }
  s.moved_bytes = rows * per_head_moved;
  return s;
}

}  // namespace npusim::mapper
