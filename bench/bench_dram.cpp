// Speed of the DRAM model: a 16 GiB sequential read stream on a 910B-like
// HBM2E tier (4 stacks x 8 channels x 2 pseudo-channels, 1.6 TB/s), issued
// by 24 initiators as 64 KiB transactions, the way MTE2 engines would.
//
// Events counted:
//   - scheduling steps: row-level requests the calculators placed (one
//     closed-form step per run of bursts to one row);
//   - process activations: SystemC thread resumptions (one per transaction
//     plus one start per initiator).
// Prints figures; asserts nothing.
#include <chrono>
#include <ctime>
#include <cstdio>
#include <vector>

#include <systemc>
#include <tlm>
#include <tlm_utils/multi_passthrough_target_socket.h>
#include <tlm_utils/simple_initiator_socket.h>

#include "sim/config/block_resolvers.h"
#include "arch/memory/dram/dram_module.h"
#include "common/config_node.h"

namespace {

using namespace npusim;
using namespace npusim::arch;

constexpr unsigned kInitiators = 24;
constexpr std::uint64_t kTransfer = 64 * KiB;
constexpr std::uint64_t kTotal = 16 * GiB;

std::uint64_t activations = 0;

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

// Reads blocks first, first + stride, ... of one sequential stream.
class StreamEngine : public sc_core::sc_module {
 public:
  tlm_utils::simple_initiator_socket<StreamEngine> socket;

  StreamEngine(sc_core::sc_module_name name, std::uint64_t first_block, std::uint64_t stride)
      : sc_core::sc_module(name), socket("socket"), first_block_(first_block), stride_(stride) {
    SC_HAS_PROCESS(StreamEngine);
    SC_THREAD(run);
  }

 private:
  void run() {
    ++activations;
    tlm::tlm_generic_payload p;
    p.set_command(tlm::TLM_READ_COMMAND);
    p.set_data_ptr(nullptr);
    p.set_data_length(static_cast<unsigned>(kTransfer));
    for (std::uint64_t block = first_block_; block * kTransfer < kTotal; block += stride_) {
      p.set_address(kHbmBase + block * kTransfer);
      p.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
      sc_core::sc_time delay = sc_core::SC_ZERO_TIME;
      socket->b_transport(p, delay);
      wait(delay);
      ++activations;
    }
  }

  std::uint64_t first_block_;
  std::uint64_t stride_;
};

}  // namespace

int sc_main(int, char**) {
  const auto config = dram::resolve_dram_config(ConfigNode::load_string(
      "preset: HBM2E\n"
      "channels: 32\n"  // 4 stacks x 8 channels
      "capacity: 64 GiB\n"
      "address_mapping: RoBaBgCoCh\n"
      "interleave: 256 B\n"
      "scheduler: fr-fcfs\n"
      "refresh: true\n",
      "bench_dram"));
  dram::DramModule hbm("hbm", config, Tier::hbm);
  FanIn link("link");
  link.out.bind(hbm.socket);
  std::vector<std::unique_ptr<StreamEngine>> engines;
  for (unsigned i = 0; i < kInitiators; ++i) {
    engines.push_back(std::make_unique<StreamEngine>(("mte2_" + std::to_string(i)).c_str(), i, kInitiators));
    engines.back()->socket.bind(link.in);
  }

  const auto start = std::chrono::steady_clock::now();
  const std::clock_t cpu_start = std::clock();
  sc_core::sc_start();
  const double cpu = static_cast<double>(std::clock() - cpu_start) / CLOCKS_PER_SEC;
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  const auto& stats = hbm.controller().stats();
  const double sim_seconds = sc_core::sc_time_stamp().to_seconds();
  const double bandwidth = static_cast<double>(kTotal) / sim_seconds;
  const std::uint64_t steps = stats.row_accesses.value;
  std::printf("config: HBM2E, %u pseudo-channels, peak %.1f GB/s, %u initiators x %llu KiB transfers\n",
              config.pseudo_channels(), config.peak_bandwidth_Bps() / 1e9, kInitiators,
              static_cast<unsigned long long>(kTransfer / KiB));
  std::printf("stream: %.1f GiB in %.3f ms simulated\n", static_cast<double>(kTotal) / GiB, sim_seconds * 1e3);
  std::printf("achieved bandwidth: %.1f GB/s = %.4f of peak (data-bus utilization %.4f)\n", bandwidth / 1e9,
              bandwidth / config.peak_bandwidth_Bps(), stats.bus_utilization());
  std::printf("row hits %llu, misses %llu, conflicts %llu, activates %llu, refreshes %llu\n",
              static_cast<unsigned long long>(stats.row_hits.value),
              static_cast<unsigned long long>(stats.row_misses.value),
              static_cast<unsigned long long>(stats.row_conflicts.value),
              static_cast<unsigned long long>(stats.activates.value),
              static_cast<unsigned long long>(stats.refreshes.value));
  // On a shared machine wall time includes waiting for a core; CPU time does not.
  std::printf("wall time: %.3f s, process CPU time: %.3f s\n", wall, cpu);
  std::printf("scheduling steps: %llu (%.2f M/s)\n", static_cast<unsigned long long>(steps), steps / wall / 1e6);
  std::printf("process activations: %llu (%.2f M/s)\n", static_cast<unsigned long long>(activations),
              activations / wall / 1e6);
  std::printf("events (steps + activations): %.2f M/s\n", (steps + activations) / wall / 1e6);
  return 0;
}
