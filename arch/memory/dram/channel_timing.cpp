#include "arch/memory/dram/channel_timing.h"

#include <algorithm>
#include <stdexcept>

#include <fmt/format.h>

namespace npusim::arch::dram {

ChannelTiming::ChannelTiming(const DramConfig& config, DramStats& stats)
    : t_(config.device.timings),
      n_bl_(config.device.burst_cycles()),
      slot_(std::max(n_bl_, t_.tCCD_S)),
      cadence_(std::max(t_.tCCD_L, slot_)),
      banks_per_group_(config.device.org.banks_per_group),
      closed_page_(config.page_policy == PagePolicy::closed),
      refresh_enabled_(config.refresh),
      stats_(stats),
      banks_(config.banks_per_pseudo_channel()),
      groups_(config.device.org.bank_groups),
      next_refresh_(config.device.timings.tREFI) {}

Cycles ChannelTiming::earliest_activate(std::uint32_t bank) const {
  Cycles at = std::max({banks_[bank].next_act, groups_[group_of(bank)].next_act, next_act_any_, refresh_end_});
  // The oldest of the last four ACTs opens the tFAW window the next one must clear.
  if (act_count_ >= 4) at = std::max(at, last_acts_[act_ring_head_] + t_.tFAW);
  return at;
}

Cycles ChannelTiming::earliest_column(std::uint32_t bank, bool is_write) const {
  const Bank& b = banks_[bank];
  const BankGroup& g = groups_[group_of(bank)];
  if (is_write) return std::max({b.next_wr, g.next_column, next_write_});
  return std::max({b.next_rd, g.next_column, g.next_read_after_write, next_read_});
}

Cycles ChannelTiming::earliest(DramCommand command, std::uint32_t bank) const {
  switch (command) {
    case DramCommand::activate: return earliest_activate(bank);
    case DramCommand::precharge: return banks_[bank].next_pre;
    case DramCommand::read: return std::max(earliest_column(bank, false), bus_cursor_);
    case DramCommand::write: return std::max(earliest_column(bank, true), bus_cursor_);
  }
  return 0;
}

void ChannelTiming::activate(std::uint32_t bank, std::uint32_t row, Cycles at) {
  if (!is_closed(bank)) throw std::logic_error(fmt::format("ACT to bank {} while a row is open", bank));
  const Cycles legal = earliest_activate(bank);
  if (at < legal) throw std::logic_error(fmt::format("ACT to bank {} at cycle {} before {}", bank, at, legal));
  commit_activate(bank, row, at);
}

void ChannelTiming::commit_activate(std::uint32_t bank, std::uint32_t row, Cycles at) {
  Bank& b = banks_[bank];
  b.open_row = row;
  b.next_act = at + t_.tRC;
  b.next_pre = at + t_.tRAS;
  b.next_rd = at + t_.tRCD;
  b.next_wr = at + t_.tRCDWR;
  groups_[group_of(bank)].next_act = at + t_.tRRD_L;
  next_act_any_ = at + t_.tRRD_S;
  last_acts_[act_ring_head_] = at;
  act_ring_head_ = (act_ring_head_ + 1) % last_acts_.size();
  ++act_count_;
  last_command_ = std::max(last_command_, at);
  quiet_since_refresh_ = false;
  stats_.activates += 1;
}

ChannelTiming::Plan ChannelTiming::plan(const RowRequest& r) const {
  Plan p;
  const Bank& b = banks_[r.bank];
  Cycles column_ready;
  if (b.open_row == static_cast<std::int64_t>(r.row)) {
    p.result.outcome = RowOutcome::hit;
    column_ready = r.is_write ? b.next_wr : b.next_rd;
    p.start = 0;  // set below, once the first column command is known
  } else {
    Cycles act_floor = r.arrival;
    if (b.open_row >= 0) {
      p.result.outcome = RowOutcome::conflict;
      p.result.precharge = std::max(r.arrival, b.next_pre);
      act_floor = p.result.precharge + t_.tRP;
    } else {
      p.result.outcome = RowOutcome::miss;
    }
    p.result.activate = std::max(act_floor, earliest_activate(r.bank));
    column_ready = p.result.activate + (r.is_write ? t_.tRCDWR : t_.tRCD);
  }
  const BankGroup& g = groups_[group_of(r.bank)];
  const Cycles turnaround = r.is_write ? next_write_ : std::max(next_read_, g.next_read_after_write);
  const Cycles first = std::max({column_ready, r.arrival, g.next_column, turnaround});
  const Cycles n = r.bursts;
  p.bus_cursor = std::max(bus_cursor_, first) + n * slot_;
  const Cycles last = std::max(first + (n - 1) * cadence_, p.bus_cursor - slot_);
  // With the bus stretching the run, its commands are taken to keep their
  // cadence and end at `last`; a single burst issues at `last`.
  p.result.first_column = std::max(first, last - (n - 1) * cadence_);
  p.result.last_column = last;
  p.result.data_done = last + (r.is_write ? t_.CWL : t_.CL) + n_bl_;
  switch (p.result.outcome) {
    case RowOutcome::hit: p.start = first; break;
    case RowOutcome::miss: p.start = p.result.activate; break;
    case RowOutcome::conflict: p.start = p.result.precharge; break;
  }
  return p;
}

void ChannelTiming::commit(const RowRequest& r, const Plan& p) {
  const RowResult& res = p.result;
  Bank& b = banks_[r.bank];
  BankGroup& g = groups_[group_of(r.bank)];
  const std::uint64_t n = r.bursts;
  switch (res.outcome) {
    case RowOutcome::hit: stats_.row_hits += n; break;
    case RowOutcome::miss:
      stats_.row_misses += 1;
      stats_.row_hits += n - 1;
      break;
    case RowOutcome::conflict:
      stats_.row_conflicts += 1;
      stats_.row_hits += n - 1;
      stats_.precharges += 1;
      b.open_row = -1;
      break;
  }
  if (res.outcome != RowOutcome::hit) commit_activate(r.bank, r.row, res.activate);

  bus_cursor_ = p.bus_cursor;
  g.next_column = std::max(g.next_column, res.last_column + t_.tCCD_L);
  if (r.is_write) {
    const Cycles data_end = res.last_column + t_.CWL + n_bl_;
    b.next_pre = std::max(b.next_pre, data_end + t_.tWR);
    g.next_read_after_write = std::max(g.next_read_after_write, data_end + t_.tWTR_L);
    next_read_ = std::max(next_read_, data_end + t_.tWTR_S);
    stats_.writes += n;
  } else {
    b.next_pre = std::max(b.next_pre, res.last_column + t_.tRTP);
    // Signed: a write may follow a read once the read data has left the bus.
    const std::int64_t gap = static_cast<std::int64_t>(t_.CL) + n_bl_ + kReadToWriteBubble - t_.CWL;
    next_write_ = std::max<std::int64_t>(next_write_, static_cast<std::int64_t>(res.last_column) + gap);
    stats_.reads += n;
  }
  stats_.data_bus_busy_cycles += n * n_bl_;
  stats_.row_accesses += 1;
  last_command_ = std::max(last_command_, res.last_column);

  if (closed_page_) {
    const Cycles pre = b.next_pre;
    b.open_row = -1;
    b.next_act = std::max(b.next_act, pre + t_.tRP);
    stats_.precharges += 1;
  }
}

void ChannelTiming::issue_refresh() {
  Cycles at = std::max(next_refresh_, refresh_end_);  // REF to REF is tRFC
  for (Bank& b : banks_) {
    at = std::max(at, b.next_act);  // covers ACT-to-REF (tRC) and an earlier PRE's tRP
    if (b.open_row >= 0) {
      at = std::max(at, b.next_pre + t_.tRP);
      b.open_row = -1;
      stats_.precharges += 1;
    }
  }
  refresh_end_ = at + t_.tRFC;
  next_refresh_ += t_.tREFI;
  last_command_ = std::max(last_command_, at);
  quiet_since_refresh_ = true;
  stats_.refreshes += 1;
  stats_.refresh_cycles += t_.tRFC;
}

// Nothing was placed since the last refresh, so every bank is closed and
// each due refresh from here to `horizon` issues exactly at its due time.
void ChannelTiming::refresh_idle_until(Cycles horizon) {
  const Cycles count = (horizon - next_refresh_) / t_.tREFI + 1;
  const Cycles last_due = next_refresh_ + (count - 1) * t_.tREFI;
  refresh_end_ = last_due + t_.tRFC;
  next_refresh_ = last_due + t_.tREFI;
  last_command_ = std::max(last_command_, last_due);
  stats_.refreshes += count;
  stats_.refresh_cycles += count * t_.tRFC;
}

RowResult ChannelTiming::serve(const RowRequest& request) {
  if (request.bursts == 0) throw std::logic_error("a row request needs at least one burst");
  Plan p = plan(request);
  // A refresh falls due before this request would start. When work placed
  // earlier delayed the last refresh past the next due time, refreshes go
  // back to back until the schedule has caught up; none is dropped.
  while (refresh_enabled_ && p.start >= next_refresh_) {
    if (quiet_since_refresh_ && next_refresh_ >= refresh_end_) {
      refresh_idle_until(p.start);
    } else {
      issue_refresh();
    }
    p = plan(request);
  }
  commit(request, p);
  return p.result;
}

}  // namespace npusim::arch::dram
