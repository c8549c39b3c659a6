#pragma once
// What a compressed tensor occupies, in closed form. Every figure is bits per
// element of the dense (unpruned, uncompressed) tensor, so bytes = elements x
// bits / 8 and a ratio against 16 is the compression ratio.
//
// Weights, with b = value bits of the precision, d = kept fraction, g = group
// size (elements per scale), s = scale bits, z = zero-point bits:
//   values       d x b
//   scales       s / g           s = 16 (an fp16 scale); 8 for MX (an E8M0 shared exponent)
//   zero points  z / g           z = b (stored at the value precision, GPTQ/AWQ packing)
//   metadata     dense:          0
//                N:M:            (n/m) x ceil(log2 m)      an in-group index per kept value
//                bitmap:         1                         one presence bit per element
//                CSR:            d x ceil(log2 K) + 32 (N + 1) / (K N)
//                                a column index per kept value, a 32-bit row pointer per output channel
// Examples (tests/compression/storage_test.cpp): int4, fp16 scale per 128 =
// 4 + 16/128 = 4.125; fp16 2:4 = (2 x 16 + 2 x 2) / 4 = 9; MXFP4 = 4 + 8/32 =
// 4.25; MXINT8 = 8.25; 50% unstructured fp16 bitmap = 0.5 x 16 + 1 = 9.
// Scales count groups of the dense tensor, kept or not.
//
// KV cache (one tensor, [batch, heads, tokens, head_dim]), with P pivot
// tokens at full precision (IntactKV) and the rest quantized:
//   quantized token row (one head)  D x b + scale + zero point, where
//     per-token scales:  16 bits (+16 zero point) per row
//     per-group scales:  16 bits (+16) per g elements of the row
//   full-precision row              D x 16
//   used bytes       batch x heads x (P x full_row + (T - P) x quant_row) / 8
//   allocated bytes  paged: tokens rounded up to whole blocks of B per
//                    sequence; the unused tail is internal fragmentation
//   moved bytes      every contiguous run rounded up to the 32 B DMA block
//                    (Ascend transfers are 32 B aligned, hardware-facts A4):
//                    token-major: one run per token row; head-major: one run
//                    per block (paged) or per head (contiguous).
#include <cstdint>

#include "common/dtype.h"
#include "common/units.h"
#include "workloads/annotations.h"

namespace npusim::mapper {

inline constexpr double kDmaBlockBytes = 32;  // hardware-facts A4: transfers are 32 B aligned
inline constexpr double kFp16ScaleBits = 16;

struct StorageBits {
  double values = 0;
  double scales = 0;
  double zero_points = 0;
  double metadata = 0;
  double total() const { return values + scales + zero_points + metadata; }
};

bool is_mx(DType t);
bool is_integer(DType t);
// Bits of one scale of the precision's groups: 8 for MX, 16 otherwise.
double scale_bits(DType precision);

// Kept fraction of a weight: 1 dense, n/m for N:M, the density otherwise.
double kept_fraction(const workloads::WeightFormat& format);

// Storage of a K x N weight (K input channels, N output channels).
StorageBits weight_storage(const workloads::WeightFormat& format, std::uint64_t k, std::uint64_t n);

struct KvStorage {
  double used_bytes = 0;       // what the tokens occupy
  double allocated_bytes = 0;  // used + internal fragmentation of paged blocks
  double moved_bytes = 0;      // what reading every token once moves
  double fragmentation_bytes() const { return allocated_bytes - used_bytes; }
};

// One cache tensor of `tokens` entries per sequence and head; `full` is the
// precision of unquantized (pivot) tokens.
KvStorage kv_storage(const workloads::KvCacheFormat& format, DType full, std::uint64_t batch, std::uint64_t heads,
                     std::uint64_t tokens, std::uint64_t head_dim);

}  // namespace npusim::mapper
