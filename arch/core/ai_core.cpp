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

}  // namespace

bool AiCore::PipeState::caught_up(std::size_t issued_limit) const {
  return next == queue.size() || queue[next] >= issued_limit;
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
    pipes_[i].pipe = static_cast<Pipe>(i);
    auto* source = new RequestSource;
    source->core = global_index;
    pipes_[i].payload.set_extension(source);  // the payload owns and frees it
    if (role_has_pipe(role, static_cast<Pipe>(i))) present_pipes_.push_back(static_cast<std::uint32_t>(i));
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

void AiCore::load(const CoreProgram& program) {
  if (job_pending_ || !finished()) {
    throw SimulationError(fmt::format("core {}: load() while the previous job has not finished", name()));
  }
  plan_ = plan_program(config_, identity_, program);  // throws before any state changes
  program_ = program;
  issue_tick_.assign(plan_.size(), 0);
  issued_limit_ = 0;
  for (auto& p : pipes_) {
    p.queue.clear();
    p.next = 0;
    p.ahead = 0;
    p.waiting = Wait::none;
    p.busy_cycles = 0;
    p.finish = now_ticks();
  }
  for (std::uint32_t i = 0; i < plan_.size(); ++i) {
    if (plan_[i].pipe != Pipe::scalar) pipes_[idx(plan_[i].pipe)].queue.push_back(i);
  }
  for (auto& f : local_flags_) f.reset();
  group_.reset_incoming(identity_.index_in_group);
  job_start_ = now_ticks();
  job_pending_ = true;
  scalar_done_ = false;
  // Before the first sc_start every thread runs at initialisation and finds
  // the job; between runs the scalar thread sleeps and must be woken.
  if (sc_core::sc_get_status() & (sc_core::SC_PAUSED | sc_core::SC_STOPPED)) {
    pipes_[idx(Pipe::scalar)].wake.notify(sc_core::SC_ZERO_TIME);
  }
}

bool AiCore::finished() const {
  if (job_pending_ || !scalar_done_) return false;
  for (std::uint32_t i : present_pipes_) {
    const PipeState& p = pipes_[i];
    if (p.next != p.queue.size() || p.ahead != 0) return false;
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

void AiCore::scalar_thread() {
  PipeState& s = pipes_[idx(Pipe::scalar)];
  for (;;) {
    while (!job_pending_) sleep(s, Wait::job);
    job_pending_ = false;
    const std::size_t n = plan_.size();
    // Issue stamps count whole scalar cycles from the last time the scalar
    // stood still, so N instructions take exactly N * issue cycles.
    Tick base = now_ticks();
    std::uint64_t issued_since_base = 0;
    auto stamp = [&]() { return base + config_.clock.to_ticks(double(issued_since_base * config_.scalar_issue_cycles)); };
    std::size_t i = 0;
    while (i < n) {
      std::size_t j = i;
      for (; j < n && plan_[j].pipe != Pipe::scalar; ++j) {
        ++issued_since_base;
        issue_tick_[j] = stamp();
      }
      issued_limit_ = j;
      for (std::uint32_t k : present_pipes_) wake(pipes_[k]);
      if (j == n) break;
      ++issued_since_base;
      const Tick at = stamp();
      if (at > now_ticks()) wait_ticks(at - now_ticks());
      execute(s, static_cast<std::uint32_t>(j));
      issued_limit_ = j + 1;
      if (now_ticks() > at) {  // it blocked: issue resumes from here
        base = now_ticks();
        issued_since_base = 0;
      }
      i = j + 1;
    }
    const Cycles issue_cycles = n * config_.scalar_issue_cycles;
    s.busy_cycles += issue_cycles;
    *stats_.busy_cycles[idx(Pipe::scalar)] += issue_cycles;
    s.finish = std::max(now_ticks(), base + config_.clock.to_ticks(double(issued_since_base * config_.scalar_issue_cycles)));
    scalar_done_ = true;
  }
}

// ---------------------------------------------------------------- pipes

void AiCore::pipe_loop(PipeState& p) {
  for (;;) {
    if (p.next == p.queue.size()) {
      sync(p);
      sleep(p, Wait::job);
      continue;
    }
    const std::uint32_t index = p.queue[p.next];
    if (index >= issued_limit_) {
      sync(p);
      sleep(p, Wait::issue);
      continue;
    }
    const Tick local = now_ticks() + p.ahead;
    if (issue_tick_[index] > local) p.ahead += issue_tick_[index] - local;
    execute(p, index);
    ++p.next;
    if (p.next == p.queue.size()) {
      sync(p);
      p.finish = now_ticks();
    }
    if (barrier_waiting_ && p.caught_up(issued_limit_)) {
      sync(p);
      notify_if_drained();
    }
  }
}

void AiCore::execute(PipeState& p, std::uint32_t index) {
  const Instruction& in = program_.instructions[index];
  const PlannedInstruction& plan = plan_[index];
  *stats_.instructions[idx(p.pipe)] += 1;
  switch (plan.action) {
    case Action::occupy: {
      const Tick duration = config_.clock.to_ticks(double(plan.cycles));
      p.ahead += duration;
      p.busy_cycles += plan.cycles;
      *stats_.busy_cycles[idx(p.pipe)] += plan.cycles;
      switch (in.op) {
        case Opcode::mmad: *stats_.macs.at(in.dtype) += std::uint64_t{in.m} * in.k * in.n; break;
        case Opcode::vector_op: *stats_.vector_element_ops += in.elements; break;
        case Opcode::load_l0: *stats_.l1_to_l0_bytes += in.bytes; break;
        case Opcode::fixpipe:
          *stats_.l0c_bytes_out += in.bytes;
          *stats_.l1_bytes_in += in.bytes;
          break;
        case Opcode::move_l0c_ub:
          *stats_.l0c_bytes_out += in.bytes;
          *stats_.ub_bytes_in += in.bytes;
          break;
        default: break;
      }
      break;
    }
    case Action::gm_read:
    case Action::gm_write:
      sync(p);
      gm_transfer(p, in, plan);
      break;
    case Action::set_flag:
      sync(p);
      local_flag(in.flag_src, in.flag_dst, in.event_id).raise();
      break;
    case Action::wait_flag:
      take_flag(p, local_flag(in.flag_src, in.flag_dst, in.event_id), Wait::flag, index);
      break;
    case Action::cross_set:
      sync(p);
      group_.slot(identity_.index_in_group, in.partner, in.event_id).raise();
      break;
    case Action::cross_wait:
      take_flag(p, group_.slot(in.partner, identity_.index_in_group, in.event_id), Wait::cross_flag, index);
      break;
    case Action::barrier:
      p.waiting_at = index;
      barrier_waiting_ = true;
      while (!all_pipes_drained()) sleep(p, Wait::barrier);
      barrier_waiting_ = false;
      break;
  }
}

void AiCore::take_flag(PipeState& p, FlagSlot& slot, Wait kind, std::uint32_t index) {
  // A pending set happened at or before the kernel's time, hence before this
  // pipe's local time: consume it without synchronising.
  if (slot.try_take()) return;
  sync(p);
  (kind == Wait::flag ? *stats_.flag_waits : *stats_.cross_flag_waits) += 1;
  p.waiting = kind;
  p.waiting_at = index;
  ++slot.waiters;
  while (!slot.try_take()) {
    wait(slot.raised);
    *stats_.process_activations += 1;
  }
  --slot.waiters;
  p.waiting = Wait::none;
}

void AiCore::gm_transfer(PipeState& p, const Instruction& in, const PlannedInstruction& plan) {
  const bool write = plan.action == Action::gm_write;
  tlm::tlm_generic_payload& t = p.payload;
  Bytes remaining = in.bytes;
  std::uint64_t address = in.gm_address;
  while (remaining > 0) {
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
    gm_socket->b_transport(t, delay);
    if (t.is_response_error()) {
      throw SimulationError(fmt::format("core {}: {} of {} B at GM address {:#x} failed: {}", name(),
                                        write ? "write" : "read", chunk, address, t.get_response_string()));
    }
    const Tick path = config_.clock.to_ticks(double(transfer_cycles(chunk, plan.gm_Bpc)));
    const Tick duration = std::max(path, Tick{delay.value()});
    wait_ticks(duration);
    account(p, duration);
    remaining -= chunk;
    address += chunk;
  }
  if (write) {
    *stats_.gm_bytes_written += in.bytes;
    if (in.op == Opcode::fixpipe) *stats_.l0c_bytes_out += in.bytes;
  } else {
    *stats_.gm_bytes_read += in.bytes;
    *(in.dst == Buffer::l1 ? stats_.l1_bytes_in : stats_.ub_bytes_in) += in.bytes;
  }
}

void AiCore::account(PipeState& p, Tick duration) {
  const Cycles cycles = config_.clock.to_cycles_ceil(duration);
  p.busy_cycles += cycles;
  *stats_.busy_cycles[idx(p.pipe)] += cycles;
}

// ---------------------------------------------------------------- kernel glue

void AiCore::sync(PipeState& p) {
  if (p.ahead == 0) return;
  const Tick t = p.ahead;
  wait_ticks(t);
  p.ahead = 0;
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
}

void AiCore::wake(PipeState& p) {
  if (p.sleeping) p.wake.notify();
}

bool AiCore::all_pipes_drained() const {
  for (std::uint32_t i : present_pipes_) {
    if (static_cast<Pipe>(i) == Pipe::scalar) continue;
    const PipeState& p = pipes_[i];
    if (!p.caught_up(issued_limit_) || p.ahead != 0) return false;
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

// ---------------------------------------------------------------- reports

std::string AiCore::describe_wait(const PipeState& p) const {
  const Instruction* in = p.waiting_at < program_.instructions.size() ? &program_.instructions[p.waiting_at] : nullptr;
  switch (p.waiting) {
    case Wait::flag:
      return fmt::format("waits on flag {}->{} id {} (instruction {}: {})", pipe_name(in->flag_src),
                         pipe_name(in->flag_dst), in->event_id, p.waiting_at, opcode_name(in->op));
    case Wait::cross_flag:
      return fmt::format("waits on cross-core flag from group core {} to group core {} id {} (instruction {}: {})",
                         in->partner, identity_.index_in_group, in->event_id, p.waiting_at, opcode_name(in->op));
    case Wait::barrier:
      return fmt::format("waits at pipe_barrier(ALL) (instruction {}) for the other pipes to drain", p.waiting_at);
    case Wait::issue:
      return fmt::format("has instruction {} ({}) not yet issued: the scalar unit is blocked", p.queue[p.next],
                         opcode_name(program_.instructions[p.queue[p.next]].op));
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
  for (std::uint32_t i : present_pipes_) {
    const PipeState& p = pipes_[i];
    const bool pending = static_cast<Pipe>(i) == Pipe::scalar ? !scalar_done_ : (p.next != p.queue.size() || p.ahead != 0);
    if (!pending) continue;
    const std::size_t left = static_cast<Pipe>(i) == Pipe::scalar ? plan_.size() - issued_limit_ + 1 : p.queue.size() - p.next;
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
