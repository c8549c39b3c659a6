#pragma once
// One Ascend-style AI core: an AIC or AIV of a split (A2) core group, or a
// coupled (910/310P) core.
//
// Timing model. The scalar unit issues the program in order, one instruction
// per scalar_issue_cycles, into per-pipe in-order queues. Issue is a bound,
// not a process step: a run of instructions between two scalar-pipe
// instructions (flags on the scalar pipe, barriers, cross-core flags the
// program gives to the scalar) is issued at once, each stamped with the time
// the scalar would have issued it, and a pipe never starts an instruction
// before its stamp. Queues are unbounded (the hardware's queue depth would
// stall issue; programs from the mapper keep pipes close enough for that not
// to matter). Each pipe is one SC_THREAD that runs ahead in local time
// through instructions that touch nothing outside the pipe (cube, vector,
// MTE1, on-chip moves) and synchronises with the kernel only before anything
// another process can observe: a flag, a GM transfer, the end of its queue.
// So a process activation happens per flag wait or GM transfer, not per
// instruction and never per cycle.
//
// GM transfers go out through gm_socket following arch/memory/transport.h;
// one occupies the pipe for max(bytes / per-core path rate, delay returned
// by the memory system). Transfers larger than config.transfer_chunk are sent
// as chunks so that concurrent cores interleave at the memory instead of one
// core holding it for a whole tensor.
//
// Jobs. load() a program before sc_start (or between sc_start calls, after
// the previous job finished), run sc_start until the kernel starves, then
// check finished(); if a pipe still has work the program deadlocked and
// check_finished()/throw_if_unfinished() say where.
#include <array>
#include <deque>
#include <string>
#include <vector>

#include <systemc>
#include <tlm>
#include <tlm_utils/simple_initiator_socket.h>

#include "arch/core/core_config.h"
#include "arch/core/core_role.h"
#include "arch/core/core_stats.h"
#include "arch/core/cross_core_flags.h"
#include "arch/core/flag_slot.h"
#include "arch/core/program_plan.h"
#include "arch/isa.h"
#include "common/units.h"

namespace npusim::arch {

class AiCore : public sc_core::sc_module {
 public:
  // Bound by the Machine to the interconnect (or to a test memory).
  tlm_utils::simple_initiator_socket<AiCore> gm_socket;

  SC_HAS_PROCESS(AiCore);

  // global_index goes into every request's RequestSource; index_in_group is
  // this core's place in `group` (0 = AIC, 1.. = AIVs; 0 for coupled cores).
  AiCore(const sc_core::sc_module_name& name, const CoreConfig& config, CoreRole role, int global_index,
         int index_in_group, CrossCoreFlags& group);
  AiCore(const AiCore&) = delete;
  AiCore& operator=(const AiCore&) = delete;

  // Checks the program statically (SimulationError on overflow, missing
  // pipe, unsupported precision, bad flag) and queues it as the next job.
  void load(const CoreProgram& program);

  bool finished() const;
  // Throws SimulationError describing every blocked pipe if unfinished.
  void check_finished() const;
  // One line per pipe with work left, "" when finished.
  std::string blocked_report() const;

  // Per job (reset by load); times are absolute SystemC ticks (ps).
  Tick job_start_tick() const { return job_start_; }
  Tick job_finish_tick() const;
  Cycles job_cycles() const;
  Tick pipe_finish_tick(Pipe pipe) const { return pipes_[idx(pipe)].finish; }
  Cycles pipe_busy_cycles(Pipe pipe) const { return pipes_[idx(pipe)].busy_cycles; }
  std::size_t program_size() const { return plan_.size(); }

  const StatGroup& stats() const { return stats_.group; }
  StatGroup& stats() { return stats_.group; }
  const CoreStats& counters() const { return stats_; }
  CoreRole role() const { return identity_.role; }
  int global_index() const { return global_index_; }
  const CoreConfig& config() const { return config_; }

 private:
  enum class Wait : std::uint8_t { none, issue, flag, cross_flag, barrier, job };

  struct PipeState {
    Pipe pipe = Pipe::scalar;
    std::vector<std::uint32_t> queue;  // program indices, in order
    std::size_t next = 0;
    Tick ahead = 0;                    // local time ahead of the kernel
    sc_core::sc_event wake;
    bool sleeping = false;
    Wait waiting = Wait::none;
    std::uint32_t waiting_at = 0;      // program index it blocks on
    Cycles busy_cycles = 0;
    Tick finish = 0;
    // Per pipe: an interconnect may block inside b_transport while another
    // pipe of this core sends its own request.
    tlm::tlm_generic_payload payload;
    bool caught_up(std::size_t issued_limit) const;
  };

  static int idx(Pipe p) { return static_cast<int>(p); }

  void scalar_thread();
  void mte1_thread() { pipe_loop(pipes_[idx(Pipe::mte1)]); }
  void mte2_thread() { pipe_loop(pipes_[idx(Pipe::mte2)]); }
  void mte3_thread() { pipe_loop(pipes_[idx(Pipe::mte3)]); }
  void cube_thread() { pipe_loop(pipes_[idx(Pipe::cube)]); }
  void vector_thread() { pipe_loop(pipes_[idx(Pipe::vector)]); }
  void fixpipe_thread() { pipe_loop(pipes_[idx(Pipe::fixpipe)]); }

  void pipe_loop(PipeState& p);
  void execute(PipeState& p, std::uint32_t index);
  void gm_transfer(PipeState& p, const Instruction& in, const PlannedInstruction& plan);
  void take_flag(PipeState& p, FlagSlot& slot, Wait kind, std::uint32_t index);
  void sync(PipeState& p);
  void sleep(PipeState& p, Wait reason);
  void wake(PipeState& p);
  void wait_ticks(Tick t);
  void notify_if_drained();
  bool all_pipes_drained() const;
  FlagSlot& local_flag(Pipe src, Pipe dst, std::uint32_t id);
  void account(PipeState& p, Tick duration);
  std::string describe_wait(const PipeState& p) const;

  const CoreConfig config_;
  CoreIdentity identity_;
  int global_index_;
  CrossCoreFlags& group_;
  CoreStats stats_;

  CoreProgram program_;
  std::vector<PlannedInstruction> plan_;
  std::vector<Tick> issue_tick_;   // when the scalar issued each instruction
  std::size_t issued_limit_ = 0;   // instructions [0, issued_limit_) are issued
  bool job_pending_ = false;       // loaded, scalar has not started it
  bool scalar_done_ = true;
  bool barrier_waiting_ = false;
  Tick job_start_ = 0;

  std::array<PipeState, kPipeCount> pipes_;
  std::deque<FlagSlot> local_flags_;  // [src][dst][id]
  std::vector<std::uint32_t> present_pipes_;
};

// After sc_start returned: throws one SimulationError naming, for each core
// that did not finish, each waiting pipe and the flag it waits on.
void throw_if_unfinished(const std::vector<const AiCore*>& cores);

}  // namespace npusim::arch
