// The L2 tag store finds a block's set without dividing; the set must still
// be block mod sets for every set count, power of two or not.
#include <gtest/gtest.h>

#include <cstdint>
#include <initializer_list>
#include <random>

#include "arch/l2/impl/sector_tags.h"

namespace npusim::arch {
namespace {

TEST(SectorTags, SetOfIsBlockModSetsForAnySetCount) {
  constexpr Bytes kBlock = 8 * 1024;
  constexpr int kWays = 16;
  std::mt19937_64 rng(7);
  for (const std::uint64_t sets : std::initializer_list<std::uint64_t>{1, 2, 3, 1536, 1024, 4093, 12288}) {
    const SectorTags tags(sets * kBlock * kWays, kBlock, kWays);
    ASSERT_EQ(tags.sets(), sets);
    // Edges of the 32-bit fast path, and beyond it.
    for (const std::uint64_t block : std::initializer_list<std::uint64_t>{0, 1, sets - 1, sets, sets + 1, 0xFFFFFFFE, 0xFFFFFFFF,
                                      0x100000000, 0x123456789AB}) {
      EXPECT_EQ(tags.set_of(block), block % sets) << "sets " << sets << " block " << block;
    }
    for (int i = 0; i < 100000; ++i) {
      const std::uint64_t block = rng() >> (i % 2 ? 32 : 20);
      ASSERT_EQ(tags.set_of(block), block % sets) << "sets " << sets << " block " << block;
    }
  }
}

}  // namespace
}  // namespace npusim::arch
