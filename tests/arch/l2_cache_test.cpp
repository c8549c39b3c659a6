// Timing and state probes of the L2 cache over a fixed-rate HBM stand-in.
// Geometry: 1 MiB, 128 B lines, 8 KiB tag blocks, 4 ways -> 32 sets; 8 banks,
// 512 B/cycle at 1 GHz; HBM at 102.4 GB/s, a 5:1 L2:HBM ratio as on the 910B.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "sim/config/block_resolvers.h"
#include "arch/l2/l2.h"
#include "common/error.h"
#include "support/fixed_rate_memory.h"
#include "support/probe_initiator.h"

namespace npusim::arch {
namespace {

using test::FixedRateMemory;
using test::ProbeInitiator;

constexpr Tick kCycle = 1000;
constexpr Bytes kLine = 128, kBlock = 8 * KiB;
constexpr Bytes kCapacity = 1 * MiB;
constexpr int kWays = 4;
constexpr Bytes kSetStride = kCapacity / kWays;  // blocks this far apart share a set
constexpr double kL2BytesPerCycle = 512;
constexpr Tick kL2Latency = 20 * kCycle;
constexpr double kHbmRate = 102.4e9;
constexpr Tick kHbmLatency = 100'000;

L2Config cache_config(const std::string& tag_block = "8 KiB", const std::string& ways = "4",
                      const std::string& extra = "") {
  const std::string yaml = "impl: cache\nclock: 1 GHz\ncapacity: 1 MiB\nline_size: 128 B\ntag_block: " + tag_block +
                           "\nways: " + ways + "\nbanks: 8\nbandwidth: 512 B/cycle\nlatency_cycles: 20\n" + extra;
  return resolve_l2_config(ConfigNode::load_string(yaml, "l2.yaml"));
}

struct Bench {
  L2 l2;
  FixedRateMemory hbm;
  std::vector<std::unique_ptr<ProbeInitiator>> cores;

  explicit Bench(int initiators = 1, const std::string& extra = "")
      : l2("l2", cache_config("8 KiB", "4", extra)), hbm("hbm", kHbmRate, kHbmLatency) {
    l2.to_memory.bind(hbm.in);
    for (int i = 0; i < initiators; ++i) {
      cores.push_back(std::make_unique<ProbeInitiator>(("core" + std::to_string(i)).c_str()));
      cores.back()->out.bind(l2.in);
    }
  }
  std::uint64_t stat(const char* name) const { return l2.stats().value(name); }
};

Tick at_l2_rate(Bytes bytes) { return static_cast<Tick>(static_cast<double>(bytes) / kL2BytesPerCycle) * kCycle; }

TEST(L2Cache, MissAndHitMatchTheirClosedForms) {
  Bench b;
  const Bytes bytes = 64 * KiB;
  Tick miss = 0, hit = 0;
  b.cores[0]->script = [&](ProbeInitiator& p) {
    miss = p.read(kHbmBase, bytes);
    hit = p.read(kHbmBase, bytes);
  };
  sc_core::sc_start();
  // A miss streams the fill from HBM through to the requester.
  EXPECT_EQ(miss, std::max(at_l2_rate(bytes), kHbmLatency + b.hbm.transfer_ticks(bytes)) + kL2Latency);
  EXPECT_EQ(hit, at_l2_rate(bytes) + kL2Latency);
  EXPECT_EQ(b.stat("misses"), bytes / kLine);
  EXPECT_EQ(b.stat("hits"), bytes / kLine);
  EXPECT_EQ(b.stat("fill_bytes"), bytes);
  ASSERT_EQ(b.hbm.requests.size(), 1u);  // contiguous misses go down as one request
}

TEST(L2Cache, HitsStreamAtTheL2Bandwidth) {
  constexpr int n = 8;
  Bench b(n);
  const Bytes each = 128 * KiB, chunk = 8 * KiB;
  Tick single = 0;
  auto start = std::make_shared<Tick>(0);
  auto go = std::make_shared<sc_core::sc_event>("go");
  std::vector<Tick> finished(n);
  for (int c = 0; c < n; ++c) {
    b.cores[static_cast<std::size_t>(c)]->script = [&, c](ProbeInitiator& p) {
      if (c == 0) {
        p.read(kHbmBase, kCapacity);            // warm the whole capacity
        single = p.read(kHbmBase, kCapacity);   // one request of hits
        *start = now_tick();
        go->notify(sc_core::SC_ZERO_TIME);
      }
      sc_core::wait(*go);
      p.stream(false, kHbmBase + static_cast<Bytes>(c) * each, each, chunk);
      finished[static_cast<std::size_t>(c)] = now_tick();
    };
  }
  sc_core::sc_start();
  EXPECT_EQ(single, at_l2_rate(kCapacity) + kL2Latency);
  const Tick span = *std::max_element(finished.begin(), finished.end()) - *start;
  const double bytes_per_cycle = static_cast<double>(n * each) / (static_cast<double>(span) / kCycle);
  EXPECT_LE(bytes_per_cycle, kL2BytesPerCycle);
  EXPECT_GT(bytes_per_cycle, 0.95 * kL2BytesPerCycle);
  EXPECT_GT(b.stat("bank_conflict_stall"), 0u);
  EXPECT_EQ(b.stat("misses"), kCapacity / kLine);
}

TEST(L2Cache, WorkingSetThatFitsHitsOnTheSecondPass) {
  Bench b;
  const Bytes set = kCapacity / 2;
  b.cores[0]->script = [&](ProbeInitiator& p) {
    p.stream(false, kHbmBase, set, 64 * KiB);
    p.stream(false, kHbmBase, set, 64 * KiB);
  };
  sc_core::sc_start();
  EXPECT_EQ(b.stat("misses"), set / kLine);
  EXPECT_EQ(b.stat("hits"), set / kLine);
  EXPECT_EQ(b.hbm.bytes_read, set);
}

TEST(L2Cache, WorkingSetLargerThanCapacityThrashesUnderLru) {
  Bench b;
  const Bytes set = 2 * kCapacity;
  b.cores[0]->script = [&](ProbeInitiator& p) {
    p.stream(false, kHbmBase, set, 64 * KiB);
    p.stream(false, kHbmBase, set, 64 * KiB);
  };
  sc_core::sc_start();
  EXPECT_EQ(b.stat("hits"), 0u);
  EXPECT_EQ(b.stat("misses"), 2 * set / kLine);
  EXPECT_EQ(b.hbm.bytes_read, 2 * set);
  EXPECT_EQ(b.stat("evictions"), (2 * set - kCapacity) / kBlock);
}

TEST(L2Cache, LruEvictsTheLeastRecentlyUsedWay) {
  Bench b;
  auto block = [](int k) { return kHbmBase + static_cast<Bytes>(k) * kSetStride; };  // all in set 0
  b.cores[0]->script = [&](ProbeInitiator& p) {
    for (int k = 0; k < kWays; ++k) p.read(block(k), kLine);  // fill the set: A B C D
    p.read(block(0), kLine);                                  // A becomes most recent
    p.read(block(kWays), kLine);                              // E evicts B, the LRU
    p.read(block(0), kLine);                                  // A still there
    p.read(block(1), kLine);                                  // B was evicted
  };
  sc_core::sc_start();
  EXPECT_EQ(b.stat("hits"), 2u);
  EXPECT_EQ(b.stat("misses"), static_cast<std::uint64_t>(kWays) + 2);
  ASSERT_EQ(b.hbm.requests.size(), static_cast<std::size_t>(kWays) + 2);
  EXPECT_EQ(b.hbm.requests.back().address, block(1));
}

TEST(L2Cache, WritesAllocateWithoutFetchAndWriteBackOnEviction) {
  Bench b;
  auto block = [](int k) { return kHbmBase + static_cast<Bytes>(k) * kSetStride; };
  Tick write = 0;
  b.cores[0]->script = [&](ProbeInitiator& p) {
    write = p.write(block(0), kBlock);
    for (int k = 1; k <= kWays; ++k) p.read(block(k), kBlock);  // the fourth new block evicts the dirty one
  };
  sc_core::sc_start();
  EXPECT_EQ(write, at_l2_rate(kBlock) + kL2Latency);
  EXPECT_EQ(b.stat("writebacks"), 1u);
  EXPECT_EQ(b.stat("writeback_bytes"), kBlock);
  EXPECT_EQ(b.hbm.bytes_written, kBlock);
  ASSERT_FALSE(b.hbm.requests.empty());
  const auto& last = b.hbm.requests.back();
  EXPECT_TRUE(last.write);
  EXPECT_EQ(last.address, block(0));
  EXPECT_EQ(b.hbm.bytes_read, static_cast<Bytes>(kWays) * kBlock);  // the write itself fetched nothing
}

// With a write-back buffer, dirty evictions wait until it holds its size and
// then go below together, lowest address first, merged where they touch.
TEST(L2Cache, WriteBackBufferSendsEvictionsAsOneBatchInAddressOrder) {
  Bench b(1, "writeback_buffer: 24 KiB\n");
  // block(s, k): the k-th block of set s; block(0, 0) and block(1, 0) are adjacent.
  auto block = [](int set, int k) {
    return kHbmBase + static_cast<Bytes>(set) * kBlock + static_cast<Bytes>(k) * kSetStride;
  };
  std::size_t writes_before_third_eviction = 0;
  auto writes = [&] {
    std::size_t n = 0;
    for (const auto& r : b.hbm.requests) n += r.write ? 1 : 0;
    return n;
  };
  b.cores[0]->script = [&](ProbeInitiator& p) {
    p.write(block(0, 1), kBlock);
    p.write(block(0, 0), kBlock);
    p.write(block(1, 0), kBlock);
    for (int k = 2; k <= kWays + 1; ++k) p.read(block(0, k), kLine);  // evict block(0, 1), then block(0, 0)
    writes_before_third_eviction = writes();
    for (int k = 1; k <= kWays; ++k) p.read(block(1, k), kLine);  // evicts block(1, 0): 24 KiB buffered
  };
  sc_core::sc_start();
  EXPECT_EQ(writes_before_third_eviction, 0u) << "16 KiB of evictions stay in a 24 KiB buffer";
  std::vector<FixedRateMemory::Request> written;
  for (const auto& r : b.hbm.requests) {
    if (r.write) written.push_back(r);
  }
  ASSERT_EQ(written.size(), 2u);
  EXPECT_EQ(written[0].address, block(0, 0));  // lowest first, merged with its neighbour block(1, 0)
  EXPECT_EQ(written[0].bytes, 2 * kBlock);
  EXPECT_EQ(written[1].address, block(0, 1));
  EXPECT_EQ(written[1].bytes, kBlock);
  EXPECT_EQ(b.hbm.bytes_written, 3 * kBlock);
  EXPECT_EQ(b.stat("writebacks"), 3u);
  EXPECT_EQ(b.stat("writeback_bytes"), 3 * kBlock);
}

TEST(L2Cache, PartialLineMissFetchesTheWholeLine) {
  Bench b;
  b.cores[0]->script = [&](ProbeInitiator& p) { p.read(kHbmBase + 3 * kLine + 32, 64); };
  sc_core::sc_start();
  ASSERT_EQ(b.hbm.requests.size(), 1u);
  EXPECT_EQ(b.hbm.requests[0].address, kHbmBase + 3 * kLine);
  EXPECT_EQ(b.hbm.requests[0].bytes, kLine);
}

TEST(L2CacheConfig, CapacityMustBeWholeSets) {
  try {
    L2Config c = cache_config();
    c.capacity = kCapacity + kBlock;
    L2Registry::instance().create("cache", c);
    FAIL() << "expected an InputError";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("capacity"), std::string::npos) << e.what();
  }
}

TEST(L2CacheConfig, RejectsBadValuesWithTheirLocation) {
  EXPECT_THROW(cache_config("96 B"), InputError);    // not a whole number of lines
  EXPECT_THROW(cache_config("16 KiB"), InputError);  // more than 64 lines per tag
  EXPECT_THROW(cache_config("8 KiB", "0"), InputError);
  try {
    cache_config("8 KiB", "4", "assoc: 8\n");
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("l2.yaml"), std::string::npos) << e.what();
  }
}

TEST(L2CacheConfig, EveryRegisteredImplementationBuilds) {
  EXPECT_TRUE(L2Registry::instance().contains("cache"));
  EXPECT_TRUE(L2Registry::instance().contains("scratchpad"));
  for (const auto& name : L2Registry::instance().names()) {
    L2Config c = cache_config();
    c.impl = name;
    EXPECT_NE(L2Registry::instance().create(name, c), nullptr) << name;
  }
}

}  // namespace
}  // namespace npusim::arch
