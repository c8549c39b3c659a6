#pragma once
// The resolved, immutable configuration of one DRAM tier (phase two of the
// two-phase configuration). resolve_dram_config() (sim/config/dram_resolver.cpp) reads a `dram` map, checks
// it against the declared parameter table, and is the only place that sees
// YAML; everything below it works on DramConfig.
#include <cstdint>
#include <string>
#include <vector>

#include "arch/memory/dram/dram_device.h"
#include "common/units.h"

namespace npusim::arch::dram {

enum class PagePolicy { open, closed };

// Address bit fields, named as in "RoBaBgCoCh" (most significant first).
// Ch is the flat pseudo-channel index (channel * pseudo_channels + pc).
enum class AddressField { row, bank, bank_group, column, channel };

struct DramConfig {
  std::string preset;
  DramDevice device;  // after the data-rate and per-timing overrides
  std::uint32_t channels = 0;
  std::uint32_t pseudo_channels_per_channel = 0;
  Bytes capacity = 0;
  std::uint64_t rows_per_bank = 0;
  PagePolicy page_policy = PagePolicy::open;
  std::string address_mapping;               // as written, e.g. "RoBaBgCoCh"
  std::vector<AddressField> mapping_fields;  // most significant first
  Bytes interleave_bytes = 0;                // bytes kept contiguous below the lowest field
  std::string scheduler;
  std::uint32_t queue_depth = 0;
  bool refresh = true;

  std::uint32_t pseudo_channels() const { return channels * pseudo_channels_per_channel; }
  std::uint32_t pseudo_channel_width_bits() const {
    return device.org.channel_width_bits / pseudo_channels_per_channel;
  }
  Bytes burst_bytes() const { return Bytes{pseudo_channel_width_bits()} / 8 * device.org.burst_length; }
  std::uint32_t banks_per_pseudo_channel() const {
    return device.org.bank_groups * device.org.banks_per_group;
  }
  Clock clock() const { return Clock(device.clock_hz); }
  // Pins x data rate over every pseudo-channel: the bus never idles.
  double peak_bandwidth_Bps() const {
    return static_cast<double>(channels) * device.org.channel_width_bits / 8.0 * device.data_rate_per_pin();
  }
};


// "RoBaBgCoCh" -> fields; empty when the text is not a permutation of the five.
std::vector<AddressField> parse_address_mapping(const std::string& text);

}  // namespace npusim::arch::dram
