#pragma once
// The chip: core groups, the on-chip network, the shared L2 or SRAM tier and
// the DRAM controllers, wired with TLM-2.0 sockets. Elaborated once per
// process; jobs (one Program each) run one after another on it.
#include <memory>
#include <string>
#include <vector>

#include <systemc>

#include "arch/core/ai_core.h"
#include "arch/core/cross_core_flags.h"
#include "arch/isa.h"
#include "arch/l2/l2.h"
#include "arch/machine_config.h"
#include "arch/memory/dram/dram_module.h"
#include "arch/noc/noc.h"
#include "common/trace_sink.h"
#include "arch/stream/stream_queues.h"
#include "arch/stream/stream_router.h"

namespace npusim::arch {

struct JobTiming {
  Tick start = 0;
  Tick end = 0;
  Cycles cycles = 0;  // core clock
};

class Machine : public sc_core::sc_module {
 public:
  Machine(const sc_core::sc_module_name& name, const MachineConfig& config);

  // Loads the program on every core, runs the kernel until it starves, and
  // throws SimulationError if any core could not finish (a deadlock).
  JobTiming run(const Program& program);

  // Timeline of every core pipe and DRAM pseudo-channel; null turns it off.
  // The sink must outlive the runs it records.
  void set_trace(TraceSink* sink);

  const MachineConfig& config() const { return config_; }
  const std::vector<std::unique_ptr<AiCore>>& cores() const { return cores_; }
  const Noc& noc() const { return *noc_; }
  const L2* l2() const { return l2_.get(); }
  const dram::DramModule* hbm() const { return hbm_.get(); }
  const dram::DramModule* ddr() const { return ddr_.get(); }
  Tick now() const;

  // Stage-to-stage queues of layer-pipelined dataflow (arch/stream/), in
  // front of the port that serves the HBM tier; null when no port does.
  StreamQueues* streams() { return streams_.get(); }
  const StreamQueues* streams() const { return streams_.get(); }

 private:
  const MachineConfig config_;
  std::vector<std::unique_ptr<CrossCoreFlags>> groups_;
  std::vector<std::unique_ptr<AiCore>> cores_;
  std::unique_ptr<Noc> noc_;
  std::unique_ptr<L2> l2_;
  std::unique_ptr<dram::DramModule> hbm_;
  std::unique_ptr<dram::DramModule> ddr_;
  std::unique_ptr<StreamRouter> stream_router_;
  std::unique_ptr<StreamQueues> streams_;
  CoreProgram empty_;
};

}  // namespace npusim::arch
