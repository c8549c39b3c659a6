#pragma once
// One Ascend-style AI core: an AIC or AIV of a split (A2) core group, or a
// coupled (910/310P) core.
//
// Timing model. The scalar unit issues the program in order, one instruction
// per scalar_issue_cycles, into per-pipe in-order queues. Issue is a bound,
// not a process step: a run of instructions between two scalar-pipe
// instructions (flags on the scalar pipe, barriers, cross-core flags the
// program gives to the scalar) is issued at once, and a pipe never starts an
// instruction before the time the scalar would have issued it. That time is
// computed by the pipe from the run's start (an issue epoch), so issuing
// costs nothing per instruction. Queues are unbounded (the hardware's queue
// depth would stall issue; programs from the mapper keep pipes close enough
// for that not to matter). Each pipe is one SC_THREAD with its own local
// time, which runs ahead of the kernel through everything no other process
// can observe before it happens: cube, vector, MTE1 and on-chip moves, and
// local flags, which carry the time of their set (flag_slot.h). A pipe
// synchronises with the kernel only before a GM transfer (the memory system
// is shared and time-ordered), a cross-core flag, a barrier, and the end of
// its queue; it blocks only on a flag whose set its setter has not reached.
// So a process activation happens per GM transfer or truly blocking wait,
// never per cycle and not per instruction.
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
//
// Trace. With set_trace(sink) every pipe writes its busy intervals as slices
// on track (core name, pipe name), labelled with the op name of the
// instruction (Program::op_names[op_tag] when load() was given the table,
// the opcode name otherwise); back-to-back slices of one label merge.
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
#include "arch/core/pipe_step.h"
#include "arch/core/pipe_trace.h"
#include "arch/core/program_plan.h"
#include "arch/isa.h"
#include "common/trace_sink.h"
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
  // The program is copied; it need not outlive the call.
  void load(const CoreProgram& program);
  // The same, and trace slices are labelled op_names[op_tag]: pass the
  // Program's op_names. The table is kept by pointer and must outlive the job.
  void load(const CoreProgram& program, const std::vector<std::string>* op_names);

  // Null (the default) turns tracing off, which costs one branch per
  // instruction. Call between jobs; the scalar pipe's track is written from
  // the next load() on. The sink must outlive the core or the next
  // set_trace(nullptr).
  void set_trace(TraceSink* sink);

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
  std::size_t program_size() const { return program_size_; }

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
    std::vector<PipeStep> steps;  // this pipe's instructions, in program order
    std::size_t next = 0;         // steps[next] is the next to execute
    // This pipe's own time: the kernel's time or later while it has work.
    Tick local = 0;
    std::size_t epoch = 0;        // issue epoch of steps[next] or earlier
    sc_core::sc_event wake;
    bool sleeping = false;
    Wait waiting = Wait::none;
    const PipeStep* waiting_at = nullptr;  // the step it blocks on
    Cycles busy_cycles = 0;
    Tick finish = 0;
    Counter* executed = nullptr;  // stats: instructions_<pipe>
    Counter* busy = nullptr;      // stats: busy_cycles_<pipe>
    PipeTrace trace;
    // Per pipe: an interconnect may block inside b_transport while another
    // pipe of this core sends its own request.
    tlm::tlm_generic_payload payload;
    bool caught_up(std::size_t issued_limit) const;
  };

  // Instructions from `first` on were issued one per scalar_issue_cycles
  // from `base` (until the next epoch): the scalar restarts the count each
  // time it stood still.
  struct IssueEpoch {
    std::uint32_t first;
    Tick base;
  };

  static int idx(Pipe p) { return static_cast<int>(p); }

  void scalar_thread();
  void mte1_thread() { pipe_loop(pipes_[idx(Pipe::mte1)]); }
  void mte2_thread() { pipe_loop(pipes_[idx(Pipe::mte2)]); }
  void mte3_thread() { pipe_loop(pipes_[idx(Pipe::mte3)]); }
  void cube_thread() { pipe_loop(pipes_[idx(Pipe::cube)]); }
  void vector_thread() { pipe_loop(pipes_[idx(Pipe::vector)]); }
  void fixpipe_thread() { pipe_loop(pipes_[idx(Pipe::fixpipe)]); }

  PipeStep make_step(std::uint32_t index, const Instruction& in, const PlannedInstruction& plan);
  Tick issue_tick(PipeState& p, std::uint32_t index);
  Tick issue_span(std::uint64_t instructions) const;
  void pipe_loop(PipeState& p);
  void execute(PipeState& p, const PipeStep& s);
  void gm_transfer(PipeState& p, const PipeStep& s);
  void take_flag(PipeState& p, const PipeStep& s, Wait kind);
  void sync(PipeState& p);
  void sleep(PipeState& p, Wait reason);
  void wake(PipeState& p);
  void wait_ticks(Tick t);
  void notify_if_drained();
  bool all_pipes_drained() const;
  FlagSlot& local_flag(Pipe src, Pipe dst, std::uint32_t id);
  void account(PipeState& p, Tick duration);
  const char* label(const PipeStep& s) const;
  void trace_issue(std::uint32_t from, std::uint32_t to, const IssueEpoch& epoch);
  std::string describe_wait(const PipeState& p) const;

  const CoreConfig config_;
  CoreIdentity identity_;
  int global_index_;
  CrossCoreFlags& group_;
  CoreStats stats_;

  std::size_t program_size_ = 0;
  std::vector<IssueEpoch> epochs_;
  std::size_t issued_limit_ = 0;   // instructions [0, issued_limit_) are issued
  bool job_pending_ = false;       // loaded, scalar has not started it
  bool scalar_done_ = true;
  bool barrier_waiting_ = false;
  Tick job_start_ = 0;

  std::array<PipeState, kPipeCount> pipes_;
  // load() builds the next job here, so a program that fails its checks
  // leaves the core as it was; then swaps (both keep their capacity).
  std::array<std::vector<PipeStep>, kPipeCount> staged_;
  std::deque<FlagSlot> local_flags_;  // [src][dst][id]
  std::vector<std::uint32_t> present_pipes_;

  TraceSink* trace_ = nullptr;
  const std::vector<std::string>* op_names_ = nullptr;
  std::vector<std::uint32_t> issue_tags_;  // op_tag per instruction, only when tracing
};

// After sc_start returned: throws one SimulationError naming, for each core
// that did not finish, each waiting pipe and the flag it waits on.
void throw_if_unfinished(const std::vector<const AiCore*>& cores);

}  // namespace npusim::arch
