#include <gtest/gtest.h>

#include "arch/core/core_config.h"
#include "common/error.h"
#include "common/params.h"
#include "tests/arch/core_test_support.h"

namespace npusim::arch {
namespace {

using test::config_from_yaml;

TEST(CoreConfig, DefaultsDescribeA2SplitCore) {
  const CoreConfig c = config_from_yaml("{}");
  EXPECT_EQ(c.style, CoreStyle::split);
  EXPECT_EQ(c.vector_cores_per_cube, 2u);
  EXPECT_DOUBLE_EQ(c.clock.hz(), 1.8e9);
  EXPECT_EQ(c.capacity(Buffer::l1), 512 * KiB);
  EXPECT_EQ(c.capacity(Buffer::l0c), 128 * KiB);
  EXPECT_EQ(c.capacity(Buffer::ub), 192 * KiB);
  ASSERT_NE(c.cube_shape(DType::int8), nullptr);
  EXPECT_EQ(c.cube_shape(DType::int8)->macs_per_cycle(), 8192u);
  EXPECT_EQ(c.cube_shape(DType::fp8_e4m3), nullptr);
  EXPECT_EQ(c.event_ids, 8u);
  EXPECT_EQ(c.cores_per_group(), 3u);
}

TEST(CoreConfig, ReadsEveryNestedSection) {
  const CoreConfig c = config_from_yaml(R"(
style: coupled
vector_cores_per_cube: 0
clock: 1 GHz
buffers: {l1: 1 MiB, l0c: 256 KiB, ub: 248 KiB}
cube: {fp16: [16, 16, 16], fp8_e4m3: [16, 32, 16]}
cube_fill_drain_cycles: 20
sparse: {supported: true, gain_2_4: 1.8}
vector: {width: 128 B, cycles_per_repeat: {default: 2, exp.fp32: 8}}
paths: {mte2_gm_Bpc: 67}
)");
  EXPECT_EQ(c.style, CoreStyle::coupled);
  EXPECT_EQ(c.capacity(Buffer::l1), MiB);
  EXPECT_EQ(c.capacity(Buffer::l0a), 64 * KiB);  // default kept
  EXPECT_EQ(c.cube_shape(DType::fp8_e4m3)->k0, 32u);
  EXPECT_EQ(c.cube_shape(DType::int8), nullptr);  // the map replaces the default
  EXPECT_TRUE(c.sparse.supported);
  EXPECT_DOUBLE_EQ(c.sparse.gain_2_4, 1.8);
  EXPECT_DOUBLE_EQ(c.sparse.gain_4_8, 2.0);
  EXPECT_EQ(c.vector.width, 128u);
  EXPECT_DOUBLE_EQ(c.paths.mte2_gm_Bpc, 67);
  EXPECT_EQ(c.cube_fill_drain_cycles, 20u);
}

TEST(CoreConfig, RejectsUnknownKeysAndBadValuesWithTheirPath) {
  try {
    config_from_yaml("{paths: {mte2_gm_bpc: 40}}");
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("mte2_gm_bpc"), std::string::npos) << e.what();
  }
  try {
    config_from_yaml("{cube: {fp17: [16,16,16]}}");
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("cube.fp17"), std::string::npos) << e.what();
  }
  EXPECT_THROW(config_from_yaml("{cube: {fp16: [16,16]}}"), InputError);
  EXPECT_THROW(config_from_yaml("{clock: 1800}"), InputError);
  EXPECT_THROW(config_from_yaml("{style: coupled}"), InputError);  // coupled with AIVs
  EXPECT_THROW(config_from_yaml("{vector: {cycles_per_repeat: {exp: 2}}}"), InputError);  // no default
  EXPECT_THROW(config_from_yaml("{sparse: {gain_2_4: 0.5}}"), InputError);
}

TEST(CoreConfig, TablesAreRegisteredForListing) {
  int found = 0;
  for (const ParamTable* t : ParamCatalog::instance().tables()) {
    if (t->section().rfind("core", 0) == 0) ++found;
  }
  EXPECT_EQ(found, 5);
}

}  // namespace
}  // namespace npusim::arch
