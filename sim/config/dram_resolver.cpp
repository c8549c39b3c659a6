#include "sim/config/block_resolvers.h"

#include <algorithm>
#include <cctype>
#include <cmath>

#include <fmt/format.h>

#include "arch/memory/dram/dram_scheduler.h"
#include "common/params.h"

namespace npusim::arch::dram {
namespace {

const ParamTable kDramParams(
    "dram", "An HBM or DDR tier: device preset, organisation and controller policy",
    {
        {"preset", "", "", "device standard and speed bin by name: HBM2, HBM2E, HBM3, DDR5-4800, LPDDR4X-4266"},
        {"channels", "", "", "independent channels (HBM: stacks x 8)"},
        {"pseudo_channels_per_channel", "preset", "",
         "pseudo-channels (DDR5: sub-channels) sharing one channel's pins; 'preset' keeps the standard's"},
        {"data_rate", "preset", "MT/s",
         "data rate per pin (3200 MT/s, 3.2 Gbps); analog timings keep their ns, 'preset' keeps the bin's"},
        {"capacity", "", "B", "capacity of the whole tier; rows per bank follow from it"},
        {"page_policy", "open", "", "open: rows stay open after an access; closed: auto-precharge"},
        {"address_mapping", "RoBaBgCoCh", "",
         "bit fields from most to least significant: Ro row, Ba bank, Bg bank group, Co column, Ch pseudo-channel"},
        {"interleave", "256 B", "B", "contiguous bytes below the lowest mapped field (a power of two)"},
        {"scheduler", "fr-fcfs", "", "request scheduler by name: fr-fcfs or fcfs"},
        {"queue_depth", "32", "", "row-level requests per pseudo-channel one scheduling decision may choose among"},
        {"refresh", "true", "", "issue all-bank refresh every tREFI"},
        {"timing", "{}", "tCK", "per-timing overrides in cycles, e.g. {tRCD: 16, tFAW: 30}"},
    });
const ParamTableRegistration kDramParamsRegistration(kDramParams);

bool is_power_of_two(std::uint64_t v) { return v != 0 && (v & (v - 1)) == 0; }

double parse_data_rate(const ConfigNode& node) {
  const std::string expected = "a data rate per pin with a unit (MT/s, GT/s, Mbps, Gbps)";
  if (!node.is_scalar()) node.fail(expected);
  const std::string text = node.raw();
  std::size_t split = 0;
  while (split < text.size() && (std::isdigit(static_cast<unsigned char>(text[split])) || text[split] == '.')) {
    ++split;
  }
  if (split == 0) node.fail(expected);
  double number = 0;
  try {
    number = std::stod(text.substr(0, split));
  } catch (const std::exception&) {
    node.fail(expected);
  }
  std::string unit = text.substr(split);
  unit.erase(std::remove_if(unit.begin(), unit.end(), [](unsigned char c) { return std::isspace(c); }),
             unit.end());
  double scale = 0;
  if (unit == "MT/s" || unit == "Mbps") scale = 1e6;
  if (unit == "GT/s" || unit == "Gbps") scale = 1e9;
  if (scale == 0 || number <= 0) node.fail(expected);
  return number * scale;
}

std::uint32_t as_u32_positive(const ConfigNode& node) {
  const std::uint64_t v = node.as_positive_int();
  if (v > 1'000'000) node.fail("a positive integer no larger than 1000000");
  return static_cast<std::uint32_t>(v);
}

void apply_timing_overrides(const ConfigNode& node, DramTimings& timings) {
  if (node.is_null()) return;
  node.expect_map();
  std::vector<std::string> names;
  for (const auto& field : timing_fields()) names.push_back(field.name);
  node.expect_keys(names);
  for (const auto& field : timing_fields()) {
    if (auto value = node.find(field.name)) timings.*field.member = as_u32_positive(*value);
  }
}

// Timings that contradict each other would make the closed forms meaningless.
void check_timings(const ConfigNode& timing_node, const DramTimings& t) {
  auto where = [&](const char* key) { return timing_node.find(key).value_or(timing_node); };
  if (t.tCCD_L < t.tCCD_S) where("tCCD_L").fail(fmt::format("tCCD_L >= tCCD_S ({})", t.tCCD_S));
  if (t.tRRD_L < t.tRRD_S) where("tRRD_L").fail(fmt::format("tRRD_L >= tRRD_S ({})", t.tRRD_S));
  if (t.tWTR_L < t.tWTR_S) where("tWTR_L").fail(fmt::format("tWTR_L >= tWTR_S ({})", t.tWTR_S));
  if (t.tRC < t.tRAS) where("tRC").fail(fmt::format("tRC >= tRAS ({})", t.tRAS));
  if (t.tREFI <= t.tRFC) where("tREFI").fail(fmt::format("tREFI > tRFC ({})", t.tRFC));
}

}  // namespace

std::vector<AddressField> parse_address_mapping(const std::string& text) {
  static const std::vector<std::pair<std::string, AddressField>> names = {
      {"Ro", AddressField::row},    {"Ba", AddressField::bank},    {"Bg", AddressField::bank_group},
      {"Co", AddressField::column}, {"Ch", AddressField::channel},
  };
  std::vector<AddressField> out;
  if (text.size() != 2 * names.size()) return {};
  for (std::size_t i = 0; i < text.size(); i += 2) {
    const std::string token = text.substr(i, 2);
    auto it = std::find_if(names.begin(), names.end(), [&](const auto& n) { return n.first == token; });
    if (it == names.end() || std::find(out.begin(), out.end(), it->second) != out.end()) return {};
    out.push_back(it->second);
  }
  return out;
}

DramConfig resolve_dram_config(const ConfigNode& node) {
  node.expect_map();
  const ParamReader params(node, kDramParams);
  DramConfig c;

  const ConfigNode preset_node = params["preset"];
  const auto presets = DramStandardRegistry::instance().names();
  c.preset = preset_node.as_choice(presets);
  c.device = DramStandardRegistry::instance().create(c.preset)->device();

  c.channels = as_u32_positive(params["channels"]);

  const ConfigNode pc_node = params["pseudo_channels_per_channel"];
  c.pseudo_channels_per_channel =
      pc_node.raw() == "preset" ? c.device.org.default_pseudo_channels : as_u32_positive(pc_node);
  if (!is_power_of_two(c.pseudo_channels_per_channel) ||
      c.device.org.channel_width_bits % (8 * c.pseudo_channels_per_channel) != 0) {
    pc_node.fail(fmt::format("a power of two dividing the {}-bit channel into whole bytes",
                             c.device.org.channel_width_bits));
  }

  const ConfigNode rate_node = params["data_rate"];
  if (rate_node.raw() != "preset") {
    c.device = reclock(c.device, parse_data_rate(rate_node) / c.device.org.transfers_per_clock);
  }
  const ConfigNode timing_node = params["timing"];
  apply_timing_overrides(timing_node, c.device.timings);
  check_timings(timing_node, c.device.timings);

  const ConfigNode capacity_node = params["capacity"];
  c.capacity = capacity_node.as_bytes();
  const Bytes bytes_per_row_set =
      Bytes{c.pseudo_channels()} * c.banks_per_pseudo_channel() * c.device.org.page_bytes;
  if (c.capacity == 0 || c.capacity % bytes_per_row_set != 0 || !is_power_of_two(c.capacity / bytes_per_row_set)) {
    capacity_node.fail(fmt::format("a capacity that is a power-of-two multiple of {} B "
                                   "(pseudo-channels x banks x page)", bytes_per_row_set));
  }
  c.rows_per_bank = c.capacity / bytes_per_row_set;

  c.page_policy = params["page_policy"].as_choice({"open", "closed"}) == "open" ? PagePolicy::open
                                                                                 : PagePolicy::closed;

  const ConfigNode mapping_node = params["address_mapping"];
  c.address_mapping = mapping_node.as_string();
  c.mapping_fields = parse_address_mapping(c.address_mapping);
  if (c.mapping_fields.empty()) {
    mapping_node.fail("each of Ro, Ba, Bg, Co, Ch exactly once, most significant first (e.g. RoBaBgCoCh)");
  }
  if (!is_power_of_two(c.pseudo_channels())) {
    params["channels"].fail("a channel count whose pseudo-channel total is a power of two");
  }

  const ConfigNode interleave_node = params["interleave"];
  c.interleave_bytes = interleave_node.as_bytes();
  if (!is_power_of_two(c.interleave_bytes) || c.interleave_bytes < c.burst_bytes() ||
      c.interleave_bytes > c.device.org.page_bytes) {
    interleave_node.fail(fmt::format("a power of two between the burst ({} B) and the page ({} B)",
                                     c.burst_bytes(), c.device.org.page_bytes));
  }

  c.scheduler = params["scheduler"].as_choice(DramSchedulerRegistry::instance().names());
  c.queue_depth = as_u32_positive(params["queue_depth"]);
  c.refresh = params["refresh"].as_bool();
  return c;
}

}  // namespace npusim::arch::dram
