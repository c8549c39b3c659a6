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
      acts_(config.device.timings),
      recent_starts_(std::max<std::uint32_t>(config.queue_depth, 1), 0),
      next_refresh_(config.device.timings.tREFI) {}

Cycles ChannelTiming::earliest_activate(std::uint32_t bank, Cycles from) const {
  const Cycles floor = std::max({from, banks_[bank].next_act, refresh_end_});
  return acts_.earliest(floor, group_of(bank));
}

Cycles ChannelTiming::earliest_column(std::uint32_t bank, bool is_write) const {
  const Bank& b = banks_[bank];
  const BankGroup& g = groups_[group_of(bank)];
  const Cycles ready = is_write ? std::max(b.next_wr, next_write_)
                                : std::max({b.next_rd, g.next_read_after_write, next_read_});
  return g.columns.first_free(ready);
}

Cycles ChannelTiming::earliest(DramCommand command, std::uint32_t bank) const {
  switch (command) {
    case DramCommand::activate: return earliest_activate(bank, 0);
    case DramCommand::precharge: return banks_[bank].next_pre;
    case DramCommand::read: return bus_.first_free(earliest_column(bank, false));
    case DramCommand::write: return bus_.first_free(earliest_column(bank, true));
  }
  return 0;
}

void ChannelTiming::activate(std::uint32_t bank, std::uint32_t row, Cycles at) {
  if (!is_closed(bank)) throw std::logic_error(fmt::format("ACT to bank {} while a row is open", bank));
  if (earliest_activate(bank, at) != at) {
    throw std::logic_error(fmt::format("ACT to bank {} at cycle {} breaks tRC, tRRD, tFAW or tRFC", bank, at));
  }
  commit_activate(bank, row, at);
}

void ChannelTiming::commit_activate(std::uint32_t bank, std::uint32_t row, Cycles at) {
  Bank& b = banks_[bank];
  b.open_row = row;
  b.next_act = at + t_.tRC;
  b.next_pre = at + t_.tRAS;
  b.next_rd = at + t_.tRCD;
  b.next_wr = at + t_.tRCDWR;
  acts_.add(at, group_of(bank));
  last_command_ = std::max(last_command_, at);
  quiet_since_refresh_ = false;
  stats_.activates += 1;
}

// Bounded search for a run's place: the earliest start that is free in its
// bank group's column path and whose span, once the bus has stretched it,
// still fits before the next run placed in that group. Past a few tries the
// run goes after everything placed in the group, which is always legal.
void ChannelTiming::place_run(std::uint32_t group, Cycles ready, Cycles n, Plan& p) const {
  constexpr int kTries = 8;
  const BusyTimeline& columns = groups_[group].columns;
  Cycles candidate = ready;
  for (int attempt = 0;; ++attempt) {
    const Cycles first = attempt < kTries ? columns.first_free(candidate) : std::max(candidate, columns.end());
    const Cycles bus_end = bus_.fill_end(first, n * slot_);
    const Cycles last = std::max(first + (n - 1) * cadence_, bus_end - slot_);
    // With the bus stretching the run, its commands are taken to keep their
    // cadence and end at `last`; a single burst issues at `last`.
    const Cycles first_column = std::max(first, last - (n - 1) * cadence_);
    const Cycles span_end = last + t_.tCCD_L;
    if (attempt >= kTries || columns.is_free(first_column, span_end)) {
      p.bus_from = first;
      p.start = first;
      p.result.first_column = first_column;
      p.result.last_column = last;
      return;
    }
    candidate = columns.blocker_end(first_column, span_end);
  }
}

ChannelTiming::Plan ChannelTiming::plan(const RowRequest& r) const {
  Plan p;
  // The request may not go before one placed queue_depth requests ago.
  const Cycles arrival = std::max(r.arrival, queue_floor_);
  const Bank& b = banks_[r.bank];
  Cycles column_ready;
  if (b.open_row == static_cast<std::int64_t>(r.row)) {
    p.result.outcome = RowOutcome::hit;
    column_ready = r.is_write ? b.next_wr : b.next_rd;
  } else {
    Cycles act_floor = arrival;
    if (b.open_row >= 0) {
      p.result.outcome = RowOutcome::conflict;
      p.result.precharge = std::max(arrival, b.next_pre);
      act_floor = p.result.precharge + t_.tRP;
    } else {
      p.result.outcome = RowOutcome::miss;
    }
    p.result.activate = earliest_activate(r.bank, act_floor);
    column_ready = p.result.activate + (r.is_write ? t_.tRCDWR : t_.tRCD);
  }
  const BankGroup& g = groups_[group_of(r.bank)];
  const Cycles turnaround = r.is_write ? next_write_ : std::max(next_read_, g.next_read_after_write);
  place_run(group_of(r.bank), std::max({column_ready, arrival, turnaround}), r.bursts, p);
  p.result.data_done = p.result.last_column + (r.is_write ? t_.CWL : t_.CL) + n_bl_;
  switch (p.result.outcome) {
    case RowOutcome::hit: break;  // place_run set the first column
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

  pieces_.clear();
  bus_.fill(p.bus_from, n * slot_, trace_ ? &pieces_ : nullptr);
  g.columns.reserve(res.first_column, res.last_column + t_.tCCD_L);
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

  // The request placed queue_depth requests ago leaves the reordering window.
  queue_floor_ = std::max(queue_floor_, recent_starts_[recent_head_]);
  recent_starts_[recent_head_] = p.start;
  if (++recent_head_ == recent_starts_.size()) recent_head_ = 0;

  if (closed_page_) {
    const Cycles pre = b.next_pre;
    b.open_row = -1;
    b.next_act = std::max(b.next_act, pre + t_.tRP);
    stats_.precharges += 1;
  }
  if (trace_) trace_bus(r, res);
}

void ChannelTiming::trace_bus(const RowRequest& r, const RowResult& res) {
  static const char* const kLabels[2][3] = {{"rd hit", "rd miss", "rd conflict"},
                                            {"wr hit", "wr miss", "wr conflict"}};
  const char* label = kLabels[r.is_write ? 1 : 0][static_cast<int>(res.outcome)];
  // The bus carries the data CL (CWL) after the command slot it was booked in.
  const Cycles latency = r.is_write ? t_.CWL : t_.CL;
  for (const auto& piece : pieces_) {
    trace_->slice(trace_track_, label, trace_clock_.to_ticks(static_cast<double>(piece.begin + latency)),
                  trace_clock_.to_ticks(static_cast<double>(piece.end + latency)));
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
