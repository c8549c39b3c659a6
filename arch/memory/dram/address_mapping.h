#pragma once
// Decodes a tier-relative byte address into DRAM coordinates. The address is
//     [ fields, most significant first, as in "RoBaBgCoCh" ][ interleave offset ]
// Each field is log2 of its count wide: Ch log2(pseudo-channels), Bg
// log2(bank groups), Ba log2(banks per group), Ro log2(rows per bank), Co
// log2(page / interleave). The offset keeps `interleave` bytes contiguous in
// one row; those bytes are the low columns of the row, so the burst index in
// the row is Co * (interleave / burst) + offset / burst.
#include <array>
#include <cstdint>

#include "arch/memory/dram/dram_config.h"

namespace npusim::arch::dram {

struct DramCoordinate {
  std::uint32_t pseudo_channel = 0;
  std::uint32_t bank_group = 0;
  std::uint32_t bank = 0;    // within its group
  std::uint32_t row = 0;
  std::uint32_t column = 0;  // burst index within the row
};

class AddressMapping {
 public:
  explicit AddressMapping(const DramConfig& config);

  DramCoordinate decode(std::uint64_t address) const;
  std::uint64_t encode(const DramCoordinate& coordinate) const;

  std::uint32_t interleave_shift() const { return offset_bits_; }
  // Decode of one interleave granule (address >> interleave_shift()): the hot path.
  DramCoordinate decode_granule(std::uint64_t granule) const {
    DramCoordinate c;
    c.pseudo_channel = field(granule, kChannel);
    c.bank_group = field(granule, kBankGroup);
    c.bank = field(granule, kBank);
    c.row = field(granule, kRow);
    c.column = field(granule, kColumn) << burst_in_granule_bits_;
    return c;
  }

 private:
  enum Slot { kRow, kBank, kBankGroup, kColumn, kChannel, kSlots };
  std::uint32_t field(std::uint64_t granule, Slot s) const {
    return static_cast<std::uint32_t>((granule >> shift_[s]) & mask_[s]);
  }

  std::uint32_t offset_bits_;
  std::uint32_t burst_bits_;
  std::uint32_t burst_in_granule_bits_;
  std::array<std::uint32_t, kSlots> shift_{};  // within the granule index
  std::array<std::uint64_t, kSlots> mask_{};
};

}  // namespace npusim::arch::dram
