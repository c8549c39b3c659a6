#include "arch/memory/dram/address_mapping.h"

namespace npusim::arch::dram {
namespace {

std::uint32_t log2_exact(std::uint64_t v) {
  std::uint32_t bits = 0;
  while ((std::uint64_t{1} << bits) < v) ++bits;
  return bits;
}

}  // namespace

AddressMapping::AddressMapping(const DramConfig& config)
    : offset_bits_(log2_exact(config.interleave_bytes)),
      burst_bits_(log2_exact(config.burst_bytes())),
      burst_in_granule_bits_(offset_bits_ - burst_bits_) {
  std::array<std::uint32_t, kSlots> width{};
  width[kRow] = log2_exact(config.rows_per_bank);
  width[kBank] = log2_exact(config.device.org.banks_per_group);
  width[kBankGroup] = log2_exact(config.device.org.bank_groups);
  width[kColumn] = log2_exact(config.device.org.page_bytes / config.interleave_bytes);
  width[kChannel] = log2_exact(config.pseudo_channels());
  std::uint32_t shift = 0;
  for (auto it = config.mapping_fields.rbegin(); it != config.mapping_fields.rend(); ++it) {
    Slot s = kRow;
    switch (*it) {
      case AddressField::row: s = kRow; break;
      case AddressField::bank: s = kBank; break;
      case AddressField::bank_group: s = kBankGroup; break;
      case AddressField::column: s = kColumn; break;
      case AddressField::channel: s = kChannel; break;
    }
    shift_[s] = shift;
    mask_[s] = (std::uint64_t{1} << width[s]) - 1;
    shift += width[s];
  }
}

DramCoordinate AddressMapping::decode(std::uint64_t address) const {
  DramCoordinate c = decode_granule(address >> offset_bits_);
  const std::uint64_t offset = address & ((std::uint64_t{1} << offset_bits_) - 1);
  c.column += static_cast<std::uint32_t>(offset >> burst_bits_);
  return c;
}

std::uint64_t AddressMapping::encode(const DramCoordinate& c) const {
  const std::uint64_t column_field = c.column >> burst_in_granule_bits_;
  const std::uint64_t burst_in_granule = c.column & ((1u << burst_in_granule_bits_) - 1);
  const std::uint64_t granule = (std::uint64_t{c.row} << shift_[kRow]) | (std::uint64_t{c.bank} << shift_[kBank]) |
                                (std::uint64_t{c.bank_group} << shift_[kBankGroup]) |
                                (column_field << shift_[kColumn]) |
                                (std::uint64_t{c.pseudo_channel} << shift_[kChannel]);
  return (granule << offset_bits_) | (burst_in_granule << burst_bits_);
}

}  // namespace npusim::arch::dram
