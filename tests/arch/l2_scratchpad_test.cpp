// Probes of the L2 tier as a software-managed SRAM scratchpad.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "sim/config/block_resolvers.h"
#include "arch/l2/l2.h"
#include "common/error.h"
#include "support/probe_initiator.h"

namespace npusim::arch {
namespace {

using test::ProbeInitiator;

constexpr Tick kCycle = 1000;
constexpr Bytes kLine = 128;
constexpr int kBanks = 8;
constexpr double kBankBytesPerCycle = 64;
constexpr Tick kLatency = 20 * kCycle;

L2Config scratchpad_config() {
  return resolve_l2_config(ConfigNode::load_string(
      "impl: scratchpad\nclock: 1 GHz\ncapacity: 1 MiB\nline_size: 128 B\nbanks: 8\n"
      "bandwidth: 512 B/cycle\nlatency_cycles: 20\ntier: sram\n",
      "sram.yaml"));
}

struct Bench {
  L2 sram;
  std::vector<std::unique_ptr<ProbeInitiator>> cores;
  explicit Bench(int initiators) : sram("sram", scratchpad_config()) {
    for (int i = 0; i < initiators; ++i) {
      cores.push_back(std::make_unique<ProbeInitiator>(("core" + std::to_string(i)).c_str()));
      cores.back()->out.bind(sram.in);
    }
  }
};

TEST(L2Scratchpad, AccessIsBankTimePlusLatency) {
  Bench b(1);
  const Bytes bytes = 64 * KiB;
  Tick read = 0, write = 0;
  b.cores[0]->script = [&](ProbeInitiator& p) {
    read = p.read(kSramBase, bytes);
    write = p.write(kSramBase + 1 * MiB - bytes, bytes);  // the last bytes of the capacity
  };
  sc_core::sc_start();
  const Tick per_bank = static_cast<Tick>(bytes / kBanks / kBankBytesPerCycle) * kCycle;
  EXPECT_EQ(read, per_bank + kLatency);
  EXPECT_EQ(write, per_bank + kLatency);
  EXPECT_EQ(b.sram.stats().value("bytes_read"), bytes);
  EXPECT_EQ(b.sram.stats().value("bytes_written"), bytes);
}

std::vector<Tick> two_lines_at_once(std::uint64_t second_offset) {
  Bench b(2);
  std::vector<Tick> took(2);
  const std::uint64_t offsets[2] = {0, second_offset};
  for (int c = 0; c < 2; ++c) {
    b.cores[static_cast<std::size_t>(c)]->script = [&, c](ProbeInitiator& p) {
      took[static_cast<std::size_t>(c)] = p.read(kSramBase + offsets[c], kLine);
    };
  }
  sc_core::sc_start();
  return took;
}

const Tick kLineTime = static_cast<Tick>(kLine / kBankBytesPerCycle) * kCycle;

TEST(L2Scratchpad, SameBankRequestsConflict) {
  const auto took = two_lines_at_once(kBanks * kLine);  // bank 0 again
  EXPECT_EQ(std::min(took[0], took[1]), kLineTime + kLatency);
  EXPECT_EQ(std::max(took[0], took[1]), 2 * kLineTime + kLatency);
}

TEST(L2Scratchpad, DifferentBankRequestsOverlap) {
  const auto took = two_lines_at_once(kLine);  // bank 1
  EXPECT_EQ(took[0], kLineTime + kLatency);
  EXPECT_EQ(took[1], kLineTime + kLatency);
}

std::string error_of(std::uint64_t address, Bytes bytes) {
  Bench b(1);
  std::string message;
  b.cores[0]->script = [&](ProbeInitiator& p) {
    try {
      p.read(address, bytes);
    } catch (const SimulationError& e) {
      message = e.what();
    }
  };
  sc_core::sc_start();
  return message;
}

TEST(L2Scratchpad, AccessPastCapacityIsAnErrorNamingTheAddress) {
  const std::string m = error_of(kSramBase + 1 * MiB - 64, 128);  // straddles the end
  EXPECT_NE(m.find("0x4000000fffc0"), std::string::npos) << m;
  EXPECT_NE(m.find("capacity"), std::string::npos) << m;
}

TEST(L2Scratchpad, AccessOutsideItsTierIsAnError) {
  const std::string m = error_of(kHbmBase + 4096, 64);
  EXPECT_NE(m.find("0x1000"), std::string::npos) << m;
}

TEST(L2Scratchpad, NeedsNoMemoryBelow) {
  Bench b(1);
  Tick took = 0;
  b.cores[0]->script = [&](ProbeInitiator& p) { took = p.read(kSramBase, kLine); };
  sc_core::sc_start();  // elaborates with to_memory unbound
  EXPECT_EQ(took, kLineTime + kLatency);
}

}  // namespace
}  // namespace npusim::arch
