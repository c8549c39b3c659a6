#pragma once
// Tag store of the L2 cache, sectored so that large transfers stay cheap.
//
// One tag covers a block of up to 64 consecutive lines (l2.tag_block, 8 KiB
// by default) and carries a valid and a dirty bit per line. Hits and misses
// are therefore exact per line, while placement and LRU replacement work per
// block: a block maps to set (block number mod sets), `ways` blocks share a
// set, and evicting a block evicts all of its lines. This is the sectored
// organisation real large caches use to keep tag area down; here it also
// means a 16 GiB stream costs one tag lookup per 8 KiB instead of one hash
// lookup per 128 B line. Tags live in one flat vector, indexed by set
// arithmetic, with a last-use stamp per way for LRU.
#include <cstdint>
#include <vector>

#include "common/units.h"

namespace npusim::arch {

class SectorTags {
 public:
  struct Entry {
    std::uint64_t block = kEmpty;  // block number = address / block_bytes
    std::uint64_t valid = 0;       // bit i: line i of the block holds data
    std::uint64_t dirty = 0;       // bit i: line i differs from the tier below
    std::uint64_t last_use = 0;
  };
  struct Victim {
    std::uint64_t block = kEmpty;
    std::uint64_t valid = 0;
    std::uint64_t dirty = 0;
  };
  static constexpr std::uint64_t kEmpty = ~std::uint64_t{0};

  // Requires capacity to be a whole number of sets of `ways` blocks.
  SectorTags(Bytes capacity, Bytes block_bytes, int ways);

  std::uint64_t sets() const { return sets_; }
  // block mod sets(), without a 64-bit division on the hot path (set counts
  // such as 1536 are not powers of two).
  std::uint64_t set_of(std::uint64_t block) const {
    if (block <= UINT32_MAX && sets_ <= UINT32_MAX) {
      // Lemire's remainder by multiplication, exact for 32-bit operands.
      const std::uint64_t fraction = set_reciprocal_ * block;
      return static_cast<std::uint64_t>((static_cast<unsigned __int128>(fraction) * sets_) >> 64);
    }
    return block % sets_;
  }
  // The entry holding `block`, made most recently used. On a miss the least
  // recently used way of its set is reset for `block` and its old contents
  // returned in `victim` (block == kEmpty when the way was free).
  Entry& touch(std::uint64_t block, bool& hit, Victim& victim);

 private:
  std::uint64_t sets_;
  std::uint64_t ways_;
  std::uint64_t set_reciprocal_;  // ceil(2^64 / sets_), for set_of()
  std::uint64_t clock_ = 0;
  std::vector<Entry> entries_;  // set-major: set * ways + way
};

}  // namespace npusim::arch
