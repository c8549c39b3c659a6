// Compressed sizes equal their closed forms (mapper/compression/storage.h).
#include <gtest/gtest.h>

#include "mapper/compression/storage.h"

namespace npusim::test {
namespace {

using mapper::kv_storage;
using mapper::weight_storage;
using workloads::KvCacheFormat;
using workloads::KvLayoutKind;
using workloads::KvMajor;
using workloads::KvScaleGranularity;
using workloads::SparsityPattern;
using workloads::StorageFormat;
using workloads::WeightFormat;

WeightFormat quantized(DType p, std::uint32_t group, bool zero_points = false) {
  WeightFormat f;
  f.precision = p;
  f.group_size = group;
  f.zero_points = zero_points;
  return f;
}

WeightFormat n_m(DType p, std::uint32_t n, std::uint32_t m) {
  WeightFormat f;
  f.precision = p;
  f.sparsity = SparsityPattern::n_m;
  f.n = n;
  f.m = m;
  f.storage = StorageFormat::n_m_compressed;
  return f;
}

WeightFormat unstructured(double density, StorageFormat storage) {
  WeightFormat f;
  f.sparsity = SparsityPattern::unstructured;
  f.density = density;
  f.storage = storage;
  return f;
}

TEST(Storage, QuantizedWeights) {
  // int4 with an fp16 scale per 128: 4 + 16/128.
  EXPECT_DOUBLE_EQ(weight_storage(quantized(DType::int4, 128), 4096, 4096).total(), 4.125);
  // ... and an int4 zero point per group: 4 + (16 + 4)/128.
  const auto asym = weight_storage(quantized(DType::int4, 128, true), 4096, 4096);
  EXPECT_DOUBLE_EQ(asym.zero_points, 4.0 / 128);
  EXPECT_DOUBLE_EQ(asym.total(), 4.15625);
  // int8 per channel (group = K = 4096): 8 + 16/4096.
  EXPECT_DOUBLE_EQ(weight_storage(quantized(DType::int8, 4096), 4096, 11008).total(), 8 + 16.0 / 4096);
  // MX: element bits + an 8-bit shared scale per 32.
  EXPECT_DOUBLE_EQ(weight_storage(quantized(DType::mxfp4, 32), 4096, 4096).total(), 4 + 8.0 / 32);
  EXPECT_DOUBLE_EQ(weight_storage(quantized(DType::mxint8, 32), 4096, 4096).total(), 8 + 8.0 / 32);
  EXPECT_DOUBLE_EQ(weight_storage(quantized(DType::fp16, 0), 4096, 4096).total(), 16);
}

TEST(Storage, SemiStructured) {
  // 2:4 fp16 with 2-bit indices: (2 x 16 + 2 x 2) / 4 = 9.
  const auto s = weight_storage(n_m(DType::fp16, 2, 4), 4096, 4096);
  EXPECT_DOUBLE_EQ(s.values, 8);
  EXPECT_DOUBLE_EQ(s.metadata, 1);
  EXPECT_DOUBLE_EQ(s.total(), 9);
  // 4:8 fp16 with 3-bit indices: (4 x 16 + 4 x 3) / 8 = 9.5.
  EXPECT_DOUBLE_EQ(weight_storage(n_m(DType::fp16, 4, 8), 4096, 4096).total(), 9.5);
  // 2:4 int4 + fp16 scale per 128: (2 x 4 + 2 x 2) / 4 + 16/128 = 3.125.
  auto w = n_m(DType::int4, 2, 4);
  w.group_size = 128;
  EXPECT_DOUBLE_EQ(weight_storage(w, 4096, 4096).total(), 3.125);
}

TEST(Storage, Unstructured) {
  // Bitmap: d x bits + 1.
  EXPECT_DOUBLE_EQ(weight_storage(unstructured(0.5, StorageFormat::bitmap), 4096, 4096).total(), 9);
  EXPECT_DOUBLE_EQ(weight_storage(unstructured(0.3, StorageFormat::bitmap), 4096, 4096).total(), 0.3 * 16 + 1);
  // CSR: d x (bits + ceil(log2 K)) + 32 (N + 1) / (K N).
  const double k = 4096, n = 11008;
  EXPECT_DOUBLE_EQ(weight_storage(unstructured(0.5, StorageFormat::csr), 4096, 11008).total(),
                   0.5 * (16 + 12) + 32 * (n + 1) / (k * n));
  // Zeros stored densely save nothing.
  EXPECT_DOUBLE_EQ(weight_storage(unstructured(0.5, StorageFormat::dense), 4096, 4096).total(), 16);
  // Bitmap beats CSR at 50%, CSR wins when very sparse.
  EXPECT_LT(weight_storage(unstructured(0.05, StorageFormat::csr), 4096, 4096).total(),
            weight_storage(unstructured(0.05, StorageFormat::bitmap), 4096, 4096).total());
}

KvCacheFormat kv(DType p, KvScaleGranularity scales, std::uint32_t group = 0) {
  KvCacheFormat f;
  f.precision = p;
  f.scales = scales;
  f.group_size = group;
  f.tier = "hbm";
  return f;
}

TEST(Storage, KvCachePrecisionAndScales) {
  // 2 sequences x 32 heads x 1000 tokens x 128.
  const double elements = 2.0 * 32 * 1000 * 128;
  const auto fp16 = kv_storage(kv(DType::fp16, KvScaleGranularity::none), DType::fp16, 2, 32, 1000, 128);
  EXPECT_DOUBLE_EQ(fp16.used_bytes, elements * 2);
  // int8 per token: one fp16 scale per 128-element row: 8 + 16/128 bits.
  const auto int8 = kv_storage(kv(DType::int8, KvScaleGranularity::per_token), DType::fp16, 2, 32, 1000, 128);
  EXPECT_DOUBLE_EQ(int8.used_bytes, elements * (8 + 16.0 / 128) / 8);
  // int4 per group of 32 with zero points: 4 + 32/32 = 5 bits.
  auto int4 = kv(DType::int4, KvScaleGranularity::per_group, 32);
  int4.zero_points = true;
  EXPECT_DOUBLE_EQ(kv_storage(int4, DType::fp16, 2, 32, 1000, 128).used_bytes, elements * 5 / 8);
  // IntactKV: the first 4 tokens at 16 bits.
  int4.full_precision_tokens = 4;
  const double rows = 2.0 * 32;
  EXPECT_DOUBLE_EQ(kv_storage(int4, DType::fp16, 2, 32, 1000, 128).used_bytes,
                   rows * (4 * 128 * 2 + 996 * 128 * 5.0 / 8));
}

TEST(Storage, KvPagingCountsFragmentationAndLayoutSetsRuns) {
  auto f = kv(DType::int8, KvScaleGranularity::per_token);
  f.layout = KvLayoutKind::paged;
  f.block_tokens = 16;
  // 1000 tokens in blocks of 16: 63 blocks = 1008 tokens allocated.
  const double row = 128 + 2;  // bytes: 128 int8 + one fp16 scale
  const auto s = kv_storage(f, DType::fp16, 1, 8, 1000, 128);
  EXPECT_DOUBLE_EQ(s.used_bytes, 8 * 1000 * row);
  EXPECT_DOUBLE_EQ(s.fragmentation_bytes(), 8 * 8 * row);
  // Head-major pages: one run per block, rounded to 32 B; the last block holds 8 tokens.
  EXPECT_DOUBLE_EQ(s.moved_bytes, 8 * (62 * std::ceil(16 * row / 32) * 32 + std::ceil(8 * row / 32) * 32));
  // Token-major: every 130 B row is its own run, rounded to 160 B.
  f.major = KvMajor::token;
  EXPECT_DOUBLE_EQ(kv_storage(f, DType::fp16, 1, 8, 1000, 128).moved_bytes, 8 * 1000 * 160.0);
}

TEST(Storage, BlockSparseHasNoMadeUpSize) {
  auto f = unstructured(0.5, StorageFormat::block_sparse);
  EXPECT_THROW(weight_storage(f, 64, 64), std::invalid_argument);
}

}  // namespace
}  // namespace npusim::test
