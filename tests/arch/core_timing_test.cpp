// Timing functions pinned to their closed forms, computed from config values.
#include <array>
#include <cmath>

#include <gtest/gtest.h>

#include "arch/core/cube_timing.h"
#include "arch/core/transfer_timing.h"
#include "arch/core/vector_timing.h"
#include "common/error.h"
#include "tests/arch/core_test_support.h"

namespace npusim::arch {
namespace {

using test::config_from_yaml;

Cycles dense_closed_form(const CoreConfig& c, DType t, std::uint64_t m, std::uint64_t k, std::uint64_t n) {
  const CubeShape& s = *c.cube_shape(t);
  return ceil_div(m, s.m0) * ceil_div(k, s.k0) * ceil_div(n, s.n0) + c.cube_fill_drain_cycles;
}

TEST(CoreCubeTiming, DenseStepsPerPrecision) {
  const CoreConfig c = config_from_yaml("{}");
  for (DType t : {DType::fp16, DType::bf16, DType::int8, DType::int4}) {
    for (auto [m, k, n] : {std::array<std::uint64_t, 3>{128, 128, 128}, {16, 16, 16}, {100, 300, 70}, {1, 4096, 1}}) {
      EXPECT_EQ(cube_cycles(c, m, k, n, t, CubeSparsity::dense), dense_closed_form(c, t, m, k, n))
          << dtype_name(t) << " " << m << "x" << k << "x" << n;
    }
  }
  // Lower precision doubles the fractal depth: the same tile takes half the steps.
  const Cycles fill = c.cube_fill_drain_cycles;
  EXPECT_EQ(cube_cycles(c, 128, 256, 128, DType::int8, CubeSparsity::dense) - fill,
            (cube_cycles(c, 128, 256, 128, DType::fp16, CubeSparsity::dense) - fill) / 2);
  EXPECT_EQ(cube_cycles(c, 128, 256, 128, DType::int4, CubeSparsity::dense) - fill,
            (cube_cycles(c, 128, 256, 128, DType::int8, CubeSparsity::dense) - fill) / 2);
}

TEST(CoreCubeTiming, UnsupportedPrecisionIsAnError) {
  const CoreConfig c = config_from_yaml("{}");
  EXPECT_THROW(cube_cycles(c, 16, 16, 16, DType::fp8_e4m3, CubeSparsity::dense), SimulationError);
}

TEST(CoreCubeTiming, SparseCubeDividesStepsByGain) {
  const CoreConfig sparse = config_from_yaml("{sparse: {supported: true, gain_2_4: 2.0, gain_4_8: 1.6}}");
  for (DType t : {DType::fp16, DType::int8, DType::int4}) {
    const Cycles dense_steps = dense_closed_form(sparse, t, 256, 512, 256) - sparse.cube_fill_drain_cycles;
    EXPECT_EQ(cube_cycles(sparse, 256, 512, 256, t, CubeSparsity::sparse_2_4),
              static_cast<Cycles>(std::ceil(double(dense_steps) / sparse.sparse.gain_2_4)) +
                  sparse.cube_fill_drain_cycles);
    EXPECT_EQ(cube_cycles(sparse, 256, 512, 256, t, CubeSparsity::sparse_4_8),
              static_cast<Cycles>(std::ceil(double(dense_steps) / sparse.sparse.gain_4_8)) +
                  sparse.cube_fill_drain_cycles);
  }
}

TEST(CoreCubeTiming, NonSparseCubeRunsSparseOperandAtDenseRate) {
  const CoreConfig dense_cube = config_from_yaml("{}");
  ASSERT_FALSE(dense_cube.sparse.supported);
  for (DType t : {DType::fp16, DType::int8, DType::int4}) {
    EXPECT_EQ(cube_cycles(dense_cube, 256, 512, 256, t, CubeSparsity::sparse_2_4),
              cube_cycles(dense_cube, 256, 512, 256, t, CubeSparsity::dense));
  }
  // ...and holds the operand decompressed in L0B.
  EXPECT_EQ(cube_l0b_bytes(dense_cube, 512, 256, DType::fp16, CubeSparsity::sparse_2_4), 512u * 256 * 2);
  const CoreConfig sparse = config_from_yaml("{sparse: {supported: true}}");
  EXPECT_EQ(cube_l0b_bytes(sparse, 512, 256, DType::fp16, CubeSparsity::sparse_2_4), 512u * 256 / 2 * 18 / 8);
}

TEST(CoreVectorTiming, RepeatsFromWidthAndCostPerOp) {
  const CoreConfig c = config_from_yaml("{vector: {cycles_per_repeat: {default: 1, exp: 4, exp.fp32: 6}}}");
  const Bytes w = c.vector.width;
  EXPECT_EQ(vector_repeats(c.vector, 4096, DType::fp16), ceil_div(4096 * 2, w));
  EXPECT_EQ(vector_repeats(c.vector, 4096, DType::fp32), ceil_div(4096 * 4, w));
  EXPECT_EQ(vector_repeats(c.vector, 1, DType::fp16), 1u);  // a partial repeat costs a whole one
  EXPECT_EQ(vector_cycles(c.vector, VectorOpKind::add, 4096, DType::fp16), ceil_div(4096 * 2, w) * 1);
  EXPECT_EQ(vector_cycles(c.vector, VectorOpKind::exp, 4096, DType::fp16), ceil_div(4096 * 2, w) * 4);
  EXPECT_EQ(vector_cycles(c.vector, VectorOpKind::exp, 4096, DType::fp32), ceil_div(4096 * 4, w) * 6);
  EXPECT_EQ(vector_cycles(c.vector, VectorOpKind::dequantize, 4096, DType::int8),
            static_cast<Cycles>(std::ceil(4096 / c.vector.dequantize_elements_per_cycle)));
  EXPECT_EQ(vector_cycles(c.vector, VectorOpKind::decompress, 1000, DType::fp16),
            static_cast<Cycles>(std::ceil(1000 / c.vector.decompress_elements_per_cycle)));
}

TEST(CoreTransferTiming, BytesOverPathRate) {
  const CoreConfig c = config_from_yaml("{}");
  EXPECT_EQ(transfer_cycles(32768, c.paths.l1_to_l0a_Bpc), 32768 / 512u);
  EXPECT_EQ(transfer_cycles(32769, c.paths.l1_to_l0b_Bpc), 32768 / 256u + 1);
  EXPECT_EQ(transfer_cycles(0, c.paths.mte2_gm_Bpc), 0u);
}

}  // namespace
}  // namespace npusim::arch
