#include "arch/l2/impl/sector_tags.h"

namespace npusim::arch {

SectorTags::SectorTags(Bytes capacity, Bytes block_bytes, int ways)
    : sets_(capacity / (block_bytes * static_cast<Bytes>(ways))),
      ways_(static_cast<std::uint64_t>(ways)),
      set_reciprocal_(sets_ ? UINT64_MAX / sets_ + 1 : 0),
      entries_(sets_ * ways_) {}

SectorTags::Entry& SectorTags::touch(std::uint64_t block, bool& hit, Victim& victim) {
  Entry* set = &entries_[set_of(block) * ways_];
  Entry* lru = set;
  for (std::uint64_t w = 0; w < ways_; ++w) {
    Entry& e = set[w];
    if (e.block == block) {
      hit = true;
      e.last_use = ++clock_;
      return e;
    }
    // Free ways carry stamp 0, so they are chosen before any used way.
    if (e.last_use < lru->last_use) lru = &e;
  }
  hit = false;
  victim = {lru->block, lru->valid, lru->dirty};
  *lru = Entry{block, 0, 0, ++clock_};
  return *lru;
}

}  // namespace npusim::arch
