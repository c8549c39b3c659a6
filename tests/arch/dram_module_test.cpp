// The TLM wrapper: b_transport returns the delay to the last data beat,
// accepts tier-relative and absolute addresses, and keeps contention between
// initiators. Elaborates once (each TEST runs in its own process).
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <systemc>
#include <tlm>
#include <tlm_utils/multi_passthrough_target_socket.h>
#include <tlm_utils/simple_initiator_socket.h>

#include "sim/config/block_resolvers.h"
#include "arch/address_map.h"
#include "arch/memory/dram/dram_module.h"
#include "common/config_node.h"

namespace npusim::arch::dram {
namespace {

struct Access {
  std::uint64_t address;
  unsigned length;
  tlm::tlm_command command;
};

struct Outcome {
  sc_core::sc_time issued;
  sc_core::sc_time delay;
  tlm::tlm_response_status status;
};

// Issues its accesses back to back, waiting out each returned delay.
class Initiator : public sc_core::sc_module {
 public:
  tlm_utils::simple_initiator_socket<Initiator> socket;
  std::vector<Access> accesses;
  std::vector<Outcome> outcomes;

  explicit Initiator(sc_core::sc_module_name name) : sc_core::sc_module(name), socket("socket") {
    SC_HAS_PROCESS(Initiator);
    SC_THREAD(run);
  }

 private:
  void run() {
    for (const Access& a : accesses) {
      tlm::tlm_generic_payload p;
      p.set_command(a.command);
      p.set_address(a.address);
      p.set_data_ptr(nullptr);
      p.set_data_length(a.length);
      p.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
      sc_core::sc_time delay = sc_core::SC_ZERO_TIME;
      const sc_core::sc_time issued = sc_core::sc_time_stamp();
      socket->b_transport(p, delay);
      outcomes.push_back({issued, delay, p.get_response_status()});
      wait(delay);
    }
  }
};

// Several initiators reach the tier through one link, as through the NoC.
class FanIn : public sc_core::sc_module {
 public:
  tlm_utils::multi_passthrough_target_socket<FanIn> in;
  tlm_utils::simple_initiator_socket<FanIn> out;

  explicit FanIn(sc_core::sc_module_name name) : sc_core::sc_module(name), in("in"), out("out") {
    in.register_b_transport(this, &FanIn::forward);
  }

 private:
  void forward(int, tlm::tlm_generic_payload& payload, sc_core::sc_time& delay) { out->b_transport(payload, delay); }
};

DramConfig ddr_config() {
  return resolve_dram_config(ConfigNode::load_string(
      "preset: DDR5-4800\nchannels: 2\ncapacity: 16 GiB\nrefresh: false\n", "module_test.yaml"));
}

TEST(DramModule, DelayIsTimeToLastDataBeatForAbsoluteAndRelativeAddresses) {
  const DramConfig c = ddr_config();
  const DramTimings& t = c.device.timings;
  const Clock clock = c.clock();
  DramModule ddr("ddr", c, Tier::ddr);
  Initiator cpu("cpu");
  cpu.socket.bind(ddr.socket);
  cpu.accesses = {
      {kDdrBase + 0, 64, tlm::TLM_READ_COMMAND},  // absolute: a miss
      {0 + 64, 64, tlm::TLM_READ_COMMAND},        // relative, same row: a hit
      {kDdrBase + c.capacity, 64, tlm::TLM_READ_COMMAND},  // one past the end
  };
  sc_core::sc_start();

  ASSERT_EQ(cpu.outcomes.size(), 3u);
  const Cycles nbl = c.device.burst_cycles();
  EXPECT_EQ(cpu.outcomes[0].status, tlm::TLM_OK_RESPONSE);
  EXPECT_EQ(cpu.outcomes[0].delay, sc_core::sc_time(static_cast<double>(clock.to_ticks(t.tRCD + t.CL + nbl)),
                                                    sc_core::SC_PS));
  // The second arrives at the first one's completion, rounded up to a clock edge.
  const Tick second_issue = static_cast<Tick>(cpu.outcomes[1].issued.value());
  const Cycles arrival = clock.to_cycles_ceil(second_issue);
  EXPECT_EQ(cpu.outcomes[1].status, tlm::TLM_OK_RESPONSE);
  EXPECT_EQ(cpu.outcomes[1].delay,
            sc_core::sc_time(static_cast<double>(clock.to_ticks(arrival + t.CL + nbl) - second_issue),
                             sc_core::SC_PS));
  EXPECT_EQ(cpu.outcomes[2].status, tlm::TLM_ADDRESS_ERROR_RESPONSE);

  const StatGroup& stats = ddr.stats();
  EXPECT_EQ(stats.value("transactions"), 2u);
  EXPECT_EQ(stats.value("row_misses"), 1u);
  EXPECT_EQ(stats.value("row_hits"), 1u);
  EXPECT_EQ(stats.value("bytes_read"), 128u);
}

TEST(DramModule, ConcurrentInitiatorsContendForOneBank) {
  const DramConfig c = ddr_config();
  const DramTimings& t = c.device.timings;
  DramModule ddr("ddr", c, Tier::ddr);
  Initiator a("a");
  Initiator b("b");
  FanIn link("link");
  link.out.bind(ddr.socket);
  a.socket.bind(link.in);
  b.socket.bind(link.in);
  // Same pseudo-channel and bank, different rows: the second is a conflict.
  const std::uint64_t other_row = c.capacity / c.rows_per_bank;  // Ro is the top field
  a.accesses = {{0, 64, tlm::TLM_READ_COMMAND}};
  b.accesses = {{other_row, 64, tlm::TLM_READ_COMMAND}};
  sc_core::sc_start();
  ASSERT_EQ(a.outcomes.size(), 1u);
  ASSERT_EQ(b.outcomes.size(), 1u);
  const sc_core::sc_time first = std::min(a.outcomes[0].delay, b.outcomes[0].delay);
  const sc_core::sc_time second = std::max(a.outcomes[0].delay, b.outcomes[0].delay);
  EXPECT_GT(second, first);
  EXPECT_EQ(ddr.stats().value("row_conflicts"), 1u);
  // The conflict waits for tRAS before its PRE, then tRP and tRCD.
  const Clock clock = c.clock();
  const Cycles nbl = c.device.burst_cycles();
  EXPECT_EQ(second, sc_core::sc_time(static_cast<double>(clock.to_ticks(t.tRAS + t.tRP + t.tRCD + t.CL + nbl)),
                                     sc_core::SC_PS));
}

}  // namespace
}  // namespace npusim::arch::dram
