#include "arch/core/ai_core.h"

#include <algorithm>

#include <fmt/format.h>

#include "arch/core/transfer_timing.h"
#include "arch/memory/transport.h"
#include "common/error.h"

namespace npusim::arch {

namespace {

sc_core::sc_time as_time(Tick t) { return sc_core::sc_time::from_value(t); }
Tick now_ticks() { return sc_core::sc_time_stamp().value(); }

// How far ahead of the current step (or instruction) to prefetch: a few
// cache lines, enough to cover a miss at one step per ~50 ns.
constexpr std::size_t kPrefetchSteps = 4;

}  // namespace

bool AiCore::PipeState::caught_up(std::size_t issued_limit) const {
  return next == steps.size() || steps[next].index >= issued_limit;
}

AiCore::AiCore(const sc_core::sc_module_name& name, const CoreConfig& config, CoreRole role, int global_index,
               int index_in_group, CrossCoreFlags& group)
    : sc_core::sc_module(name),
      gm_socket("gm_socket"),
      config_(config),
      identity_{basename(), role, index_in_group, group.group_size()},
      global_index_(global_index),
      group_(group),
      stats_(basename(), role, config) {
  // Tick arithmetic below is SystemC's integer time value; that is only
  // picoseconds at the kernel's default 1 ps resolution.
  if (sc_core::sc_get_time_resolution() != sc_core::sc_time(1, sc_core::SC_PS)) {
    throw std::logic_error("npusim runs the SystemC kernel at 1 ps resolution");
  }
  if (index_in_group < 0 || index_in_group >= group.group_size()) {
    throw std::invalid_argument(fmt::format("core {}: index {} outside its group of {}", basename(),
                                            index_in_group, group.group_size()));
  }
  if (group.event_ids() < config.event_ids) {
    throw std::invalid_argument(fmt::format("core {}: cross-core flags hold {} ids, config has {}", basename(),
                                            group.event_ids(), config.event_ids));
  }
  for (int i = 0; i < kPipeCount; ++i) {
    PipeState& p = pipes_[i];
    p.pipe = static_cast<Pipe>(i);
    p.executed = stats_.instructions[i];
    p.busy = stats_.busy_cycles[i];
    auto* source = new RequestSource;
    source->core = global_index;
    p.payload.set_extension(source);  // the payload owns and frees it
    if (role_has_pipe(role, p.pipe)) present_pipes_.push_back(static_cast<std::uint32_t>(i));
  }
  const std::size_t flag_count = std::size_t{kPipeCount} * kPipeCount * config.event_ids;
  for (std::size_t i = 0; i < flag_count; ++i) local_flags_.emplace_back();

  SC_THREAD(scalar_thread);
  if (role_has_pipe(role, Pipe::mte1)) SC_THREAD(mte1_thread);
  if (role_has_pipe(role, Pipe::mte2)) SC_THREAD(mte2_thread);
  if (role_has_pipe(role, Pipe::mte3)) SC_THREAD(mte3_thread);
  if (role_has_pipe(role, Pipe::cube)) SC_THREAD(cube_thread);
  if (role_has_pipe(role, Pipe::vector)) SC_THREAD(vector_thread);
  if (role_has_pipe(role, Pipe::fixpipe)) SC_THREAD(fixpipe_thread);
}

// ---------------------------------------------------------------- jobs

void AiCore::load(const CoreProgram& program) { load(program, nullptr); }

void AiCore::load(const CoreProgram& program, const std::vector<std::string>* op_names) {
  if (job_pending_ || !finished()) {
    throw SimulationError(fmt::format("core {}: load() while the previous job has not finished", name()));
  }
  const std::vector<Instruction>& ins = program.instructions;
  if (ins.size() > UINT32_MAX) throw SimulationError(fmt::format("core {}: program too long", name()));
  for (auto& staged : staged_) staged.clear();
  for (std::uint32_t i = 0; i < ins.size(); ++i) {
    __builtin_prefetch(&ins[i] + kPrefetchSteps);  // the mapper wrote them long ago
    const PlannedInstruction plan = plan_instruction(config_, identity_, i, ins[i]);  // throws
    staged_[idx(plan.pipe)].push_back(make_step(i, ins[i], plan));
  }

  const Tick now = now_ticks();
  program_size_ = ins.size();
  op_names_ = op_names;
  issue_tags_.clear();
  if (trace_ != nullptr) {
    for (const Instruction& in : ins) issue_tags_.push_back(in.op_tag);
  }
  epochs_.clear();
  issued_limit_ = 0;
  for (int i = 0; i < kPipeCount; ++i) {
    PipeState& p = pipes_[i];
    p.steps.swap(staged_[i]);
    p.next = 0;
    p.local = now;
    p.epoch = 0;
    p.waiting = Wait::none;
    p.waiting_at = nullptr;
    p.busy_cycles = 0;
    p.finish = now;
  }
  for (auto& f : local_flags_) f.reset();
  group_.reset_incoming(identity_.index_in_group);
  job_start_ = now;
  job_pending_ = true;
  scalar_done_ = false;
  // Before the first sc_start every thread runs at initialisation and finds
  // the job; between runs the scalar thread sleeps and must be woken.
  if (sc_core::sc_get_status() & (sc_core::SC_PAUSED | sc_core::SC_STOPPED)) {
    pipes_[idx(Pipe::scalar)].wake.notify(sc_core::SC_ZERO_TIME);
  }
}

PipeStep AiCore::make_step(std::uint32_t index, const Instruction& in, const PlannedInstruction& plan) {
  PipeStep s;
  s.index = index;
  s.op_tag = in.op_tag;
  s.action = plan.action;
  s.op = in.op;
  s.dst = in.dst;
  s.atomic_add = in.atomic_add && plan.action == Action::gm_write;
  switch (plan.action) {
    case Action::occupy: {
      PipeStep::Occupy& o = s.occupy;
      o.cycles = plan.cycles;
      o.ticks = config_.clock.to_ticks(double(plan.cycles));
      o.amount = in.bytes;
      switch (in.op) {
        case Opcode::mmad:
          o.counter = stats_.macs.at(in.dtype);
          o.amount = std::uint64_t{in.m} * in.k * in.n;
          break;
        case Opcode::vector_op:
          o.counter = stats_.vector_element_ops;
          o.amount = in.elements;
          break;
        case Opcode::load_l0: o.counter = stats_.l1_to_l0_bytes; break;
        case Opcode::fixpipe: o.counter = stats_.l1_bytes_in; break;  // to L1; l0c_bytes_out in execute
        case Opcode::move_l0c_ub: o.counter = stats_.ub_bytes_in; break;
        default: o.counter = nullptr; break;
      }
      break;
    }
    case Action::gm_read:
    case Action::gm_write: s.transfer = {in.gm_address, in.bytes, plan.gm_Bpc}; break;
    case Action::set_flag:
    case Action::wait_flag:
      s.flag = {&local_flag(in.flag_src, in.flag_dst, in.event_id), in.partner, in.flag_src, in.flag_dst,
                in.event_id};
      break;
    case Action::cross_set:
      s.flag = {&group_.slot(identity_.index_in_group, in.partner, in.event_id), in.partner, in.flag_src,
                in.flag_dst, in.event_id};
      break;
    case Action::cross_wait:
      s.flag = {&group_.slot(in.partner, identity_.index_in_group, in.event_id), in.partner, in.flag_src,
                in.flag_dst, in.event_id};
      break;
    case Action::barrier: break;
  }
  return s;
}

bool AiCore::finished() const {
  if (job_pending_ || !scalar_done_) return false;
  const Tick now = now_ticks();
  for (std::uint32_t i : present_pipes_) {
    const PipeState& p = pipes_[i];
    if (p.next != p.steps.size() || p.local > now) return false;
  }
  return true;
}

Tick AiCore::job_finish_tick() const {
  Tick t = job_start_;
  for (std::uint32_t i : present_pipes_) t = std::max(t, pipes_[i].finish);
  return t;
}

Cycles AiCore::job_cycles() const { return config_.clock.to_cycles_ceil(job_finish_tick() - job_start_); }

// ---------------------------------------------------------------- scalar

Tick AiCore::issue_span(std::uint64_t instructions) const {
  return config_.clock.to_ticks(double(instructions * config_.scalar_issue_cycles));
}

void AiCore::scalar_thread() {
  PipeState& s = pipes_[idx(Pipe::scalar)];
  for (;;) {
    while (!job_pending_) sleep(s, Wait::job);
    job_pending_ = false;
    const std::size_t n = program_size_;
    // Issue stamps count whole scalar cycles from the last time the scalar
    // stood still, so N instructions take exactly N * issue cycles.
    IssueEpoch epoch{0, now_ticks()};
    epochs_.push_back(epoch);
    for (s.next = 0; s.next < s.steps.size(); ++s.next) {
      const PipeStep& step = s.steps[s.next];
      const std::uint32_t j = step.index;
      issued_limit_ = j;  // everything before this scalar instruction
      for (std::uint32_t k : present_pipes_) wake(pipes_[k]);
      const Tick at = epoch.base + issue_span(j - epoch.first + 1);
      if (at > now_ticks()) wait_ticks(at - now_ticks());
      s.local = now_ticks();
      execute(s, step);
      sync(s);  // a flag set ahead of the kernel holds the scalar until its time
      issued_limit_ = j + 1;
      if (now_ticks() > at) {  // it blocked: issue resumes from here
        if (trace_ != nullptr) trace_issue(epoch.first, j + 1, epoch);
        epoch = {j + 1, now_ticks()};
        epochs_.push_back(epoch);
      }
    }
    if (issued_limit_ != n) {
      issued_limit_ = n;
      for (std::uint32_t k : present_pipes_) wake(pipes_[k]);
    }
    const Cycles issue_cycles = n * config_.scalar_issue_cycles;
    s.busy_cycles += issue_cycles;
    *s.busy += issue_cycles;
    s.finish = std::max(now_ticks(), epoch.base + issue_span(n - epoch.first));
    if (trace_ != nullptr) {
      trace_issue(epoch.first, static_cast<std::uint32_t>(n), epoch);
      s.trace.flush();
    }
    scalar_done_ = true;
  }
}

// ---------------------------------------------------------------- pipes

Tick AiCore::issue_tick(PipeState& p, std::uint32_t index) {
  while (p.epoch + 1 < epochs_.size() && epochs_[p.epoch + 1].first <= index) ++p.epoch;
  const IssueEpoch& e = epochs_[p.epoch];
  return e.base + issue_span(index - e.first + 1);
}

void AiCore::pipe_loop(PipeState& p) {
  for (;;) {
    if (p.next == p.steps.size()) {
      sync(p);
      sleep(p, Wait::job);
      continue;
    }
    const PipeStep& s = p.steps[p.next];
    // Between two activations of this pipe the other 400-odd pipe threads
    // of the machine evict its steps from cache; fetch the next few early.
    __builtin_prefetch(&s + kPrefetchSteps);
    if (s.index >= issued_limit_) {
      sync(p);
      sleep(p, Wait::issue);
      continue;
    }
    p.local = std::max(p.local, issue_tick(p, s.index));
    execute(p, s);
    ++p.next;
    if (p.next == p.steps.size()) {
      sync(p);
      p.finish = now_ticks();
      if (trace_ != nullptr) p.trace.flush();
    }
    if (barrier_waiting_ && p.caught_up(issued_limit_)) {
      sync(p);
      notify_if_drained();
    }
  }
}

void AiCore::execute(PipeState& p, const PipeStep& s) {
  *p.executed += 1;
  switch (s.action) {
    case Action::occupy: {
      const PipeStep::Occupy& o = s.occupy;
      const Tick begin = p.local;
      p.local += o.ticks;
      p.busy_cycles += o.cycles;
      *p.busy += o.cycles;
      if (o.counter != nullptr) *o.counter += o.amount;
      if (s.op == Opcode::fixpipe || s.op == Opcode::move_l0c_ub) *stats_.l0c_bytes_out += o.amount;
      if (trace_ != nullptr) p.trace.add(label(s), begin, p.local);
      break;
    }
    case Action::gm_read:
    case Action::gm_write: gm_transfer(p, s); break;
    case Action::set_flag: s.flag.slot->raise(p.local); break;
    case Action::wait_flag: take_flag(p, s, Wait::flag); break;
    case Action::cross_set:
      // Another core's pipes may set the same slot: record at the kernel's
      // time so the slot's sets stay in time order.
      sync(p);
      s.flag.slot->raise(p.local);
      break;
    case Action::cross_wait: take_flag(p, s, Wait::cross_flag); break;
    case Action::barrier:
      p.waiting_at = &s;
      barrier_waiting_ = true;
      while (!all_pipes_drained()) sleep(p, Wait::barrier);
      barrier_waiting_ = false;
      break;
  }
}

void AiCore::take_flag(PipeState& p, const PipeStep& s, Wait kind) {
  FlagSlot& slot = *s.flag.slot;
  Tick set_at = 0;
  if (!slot.try_take(set_at)) {
    // The setter has not reached its set yet. This pipe keeps its local
    // time while it sleeps; the set's time decides when it goes on.
    (kind == Wait::flag ? *stats_.flag_waits : *stats_.cross_flag_waits) += 1;
    p.waiting = kind;
    p.waiting_at = &s;
    ++slot.waiters;
    do {
      wait(slot.raised);
      *stats_.process_activations += 1;
    } while (!slot.try_take(set_at));
    --slot.waiters;
    p.waiting = Wait::none;
    set_at = std::max(set_at, now_ticks());
  }
  p.local = std::max(p.local, set_at);
}

void AiCore::gm_transfer(PipeState& p, const PipeStep& s) {
  const bool write = s.action == Action::gm_write;
  tlm::tlm_generic_payload& t = p.payload;
  Bytes remaining = s.transfer.bytes;
  std::uint64_t address = s.transfer.gm_address;
  while (remaining > 0) {
    sync(p);  // the memory system sees requests at the kernel's time
    const Bytes chunk = std::min(remaining, config_.transfer_chunk);
    t.set_command(write ? tlm::TLM_WRITE_COMMAND : tlm::TLM_READ_COMMAND);
    t.set_address(address);
    t.set_data_ptr(nullptr);  // timing only: targets never touch data
    t.set_data_length(static_cast<unsigned int>(chunk));
    t.set_streaming_width(static_cast<unsigned int>(chunk));
    t.set_byte_enable_ptr(nullptr);
    t.set_dmi_allowed(false);
    t.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
    sc_core::sc_time delay = sc_core::SC_ZERO_TIME;
    if (s.atomic_add) {
      // Read-modify-write: the chunk is read where it lives before the sum
      // is written back, timed as that read followed by the write. (The
      // read's data crosses the NoC here, which an adder inside the L2
      // would spare: this charges the core's read path for it too.)
      t.set_command(tlm::TLM_READ_COMMAND);
      gm_socket->b_transport(t, delay);
      if (t.is_response_error()) {
        throw SimulationError(fmt::format("core {}: atomic-add read of {} B at GM address {:#x} failed: {}", name(),
                                          chunk, address, t.get_response_string()));
      }
      *stats_.gm_atomic_bytes += chunk;
      t.set_command(tlm::TLM_WRITE_COMMAND);
      t.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
    }
    gm_socket->b_transport(t, delay);
    if (t.is_response_error()) {
      throw SimulationError(fmt::format("core {}: {} of {} B at GM address {:#x} failed: {}", name(),
                                        write ? "write" : "read", chunk, address, t.get_response_string()));
    }
    const Tick path = config_.clock.to_ticks(double(transfer_cycles(chunk, s.transfer.gm_Bpc)));
    const Tick duration = std::max(path, Tick{delay.value()});
    // The pipe is busy until the last byte lands; it runs ahead to then and
    // synchronises only when it next needs the kernel.
    // A target may block inside b_transport (a stream queue entry not yet
    // written, a barrier not yet reached): the transfer then starts when it
    // returns, and its delay counts from there, not from the pipe's time
    // before the call.
    const Tick begin = std::max(p.local, now_ticks());
    p.local = begin + duration;
    account(p, duration);
    if (trace_ != nullptr) p.trace.add(label(s), begin, p.local);
    remaining -= chunk;
    address += chunk;
  }
  if (write) {
    *stats_.gm_bytes_written += s.transfer.bytes;
    if (s.op == Opcode::fixpipe) *stats_.l0c_bytes_out += s.transfer.bytes;
  } else {
    *stats_.gm_bytes_read += s.transfer.bytes;
    *(s.dst == Buffer::l1 ? stats_.l1_bytes_in : stats_.ub_bytes_in) += s.transfer.bytes;
  }
}

void AiCore::account(PipeState& p, Tick duration) {
  const Cycles cycles = config_.clock.to_cycles_ceil(duration);
  p.busy_cycles += cycles;
  *p.busy += cycles;
}

// ---------------------------------------------------------------- kernel glue

void AiCore::sync(PipeState& p) {
  const Tick now = now_ticks();
  if (p.local > now) wait_ticks(p.local - now);
}

void AiCore::wait_ticks(Tick t) {
  wait(as_time(t));
  *stats_.process_activations += 1;
}

void AiCore::sleep(PipeState& p, Wait reason) {
  p.waiting = reason;
  p.sleeping = true;
  wait(p.wake);
  *stats_.process_activations += 1;
  p.sleeping = false;
  p.waiting = Wait::none;
  p.local = now_ticks();  // it synchronised before sleeping: idle time is not run-ahead
}

void AiCore::wake(PipeState& p) {
  if (p.sleeping) p.wake.notify();
}

bool AiCore::all_pipes_drained() const {
  const Tick now = now_ticks();
  for (std::uint32_t i : present_pipes_) {
    if (static_cast<Pipe>(i) == Pipe::scalar) continue;
    const PipeState& p = pipes_[i];
    if (!p.caught_up(issued_limit_) || p.local > now) return false;
  }
  return true;
}

void AiCore::notify_if_drained() {
  if (all_pipes_drained()) wake(pipes_[idx(Pipe::scalar)]);
}

FlagSlot& AiCore::local_flag(Pipe src, Pipe dst, std::uint32_t id) {
  const std::size_t slot = (std::size_t(idx(src)) * kPipeCount + std::size_t(idx(dst))) * config_.event_ids + id;
  return local_flags_[slot];
}

// ---------------------------------------------------------------- trace

void AiCore::set_trace(TraceSink* sink) {
  trace_ = sink;
  for (std::uint32_t i : present_pipes_) {
    PipeState& p = pipes_[i];
    p.trace.attach(sink, sink != nullptr ? sink->track(basename(), pipe_name(p.pipe)) : -1);
  }
}

const char* AiCore::label(const PipeStep& s) const {
  if (op_names_ != nullptr && s.op_tag < op_names_->size()) return (*op_names_)[s.op_tag].c_str();
  return opcode_name(s.op);
}

// The scalar's issue slots of instructions [from, to), issued in `epoch`.
void AiCore::trace_issue(std::uint32_t from, std::uint32_t to, const IssueEpoch& epoch) {
  if (issue_tags_.size() != program_size_) return;  // tracing was switched on after load()
  PipeTrace& trace = pipes_[idx(Pipe::scalar)].trace;
  for (std::uint32_t k = from; k < to; ++k) {
    const std::uint32_t tag = issue_tags_[k];
    const char* name = op_names_ != nullptr && tag < op_names_->size() ? (*op_names_)[tag].c_str() : "issue";
    trace.add(name, epoch.base + issue_span(k - epoch.first), epoch.base + issue_span(k - epoch.first + 1));
  }
}

// ---------------------------------------------------------------- reports

std::string AiCore::describe_wait(const PipeState& p) const {
  const PipeStep* s = p.waiting_at;
  switch (p.waiting) {
    case Wait::flag:
      return fmt::format("waits on flag {}->{} id {} (instruction {}: {})", pipe_name(s->flag.src),
                         pipe_name(s->flag.dst), s->flag.event_id, s->index, opcode_name(s->op));
    case Wait::cross_flag:
      return fmt::format("waits on cross-core flag from group core {} to group core {} id {} (instruction {}: {})",
                         s->flag.partner, identity_.index_in_group, s->flag.event_id, s->index, opcode_name(s->op));
    case Wait::barrier:
      return fmt::format("waits at pipe_barrier(ALL) (instruction {}) for the other pipes to drain", s->index);
    case Wait::issue:
      return fmt::format("has instruction {} ({}) not yet issued: the scalar unit is blocked", p.steps[p.next].index,
                         opcode_name(p.steps[p.next].op));
    case Wait::job:
    case Wait::none: break;
  }
  return "is still busy (the simulation stopped before it finished)";
}

std::string AiCore::blocked_report() const {
  if (finished()) return "";
  std::string out;
  const std::string who = fmt::format("core {} ({}, global {})", name(), core_role_name(identity_.role), global_index_);
  if (job_pending_) return who + ": job loaded but never started (sc_start was not called)\n";
  const Tick now = now_ticks();
  for (std::uint32_t i : present_pipes_) {
    const PipeState& p = pipes_[i];
    const bool scalar = static_cast<Pipe>(i) == Pipe::scalar;
    const bool pending = scalar ? !scalar_done_ : (p.next != p.steps.size() || p.local > now);
    if (!pending) continue;
    const std::size_t left = scalar ? program_size_ - issued_limit_ + 1 : p.steps.size() - p.next;
    out += fmt::format("{}: pipe {} {}; {} instruction(s) left\n", who, pipe_name(p.pipe), describe_wait(p), left);
  }
  return out;
}

void AiCore::check_finished() const { throw_if_unfinished({this}); }

void throw_if_unfinished(const std::vector<const AiCore*>& cores) {
  std::string report;
  for (const AiCore* core : cores) report += core->blocked_report();
  if (report.empty()) return;
  const bool starved = !sc_core::sc_pending_activity();
  throw SimulationError(
      (starved ? std::string("deadlock: no event is pending and these pipes cannot proceed:\n")
               : std::string("simulation stopped with work left (events still pending, so not a deadlock):\n")) +
      report);
}

}  // namespace npusim::arch
