#pragma once
// Timing of one pseudo-channel, computed analytically: no clock, no events.
//
// State is a set of "earliest next" times per bank (open row, next ACT, PRE,
// RD, WR) and per pseudo-channel (tWTR_S, read-to-write turnaround,
// refresh), plus three logs of what was placed: the ACTs (tRRD_S/L, tFAW;
// activate_window.h), the busy spans of each bank group's column path
// (tCCD_L) and the data bus (busy_timeline.h). serve() places one RowRequest
// - a run of n column commands to one row - in one step: PRE and ACT if the
// row is not open, then the whole run in closed form. Cost is O(1) in n.
//
// The run's own cadence is max(tCCD_L, nBL): every command of a run goes to
// one bank, hence one bank group. The data bus is a fluid resource: each burst
// needs one slot of max(nBL, tCCD_S) cycles, and a run may use the slots that
// other runs in other bank groups leave between their own commands. So the
// run's last command is
//     max(first + (n - 1) * cadence,  end of its n slots of bus - slot)
// which is exact for a single run or a single burst, and for interleaved runs
// keeps the bus total exact while charging any wait to the run placed last.
//
// Out-of-order placement. Requests are placed in the order serve() is called
// and nothing placed ever moves (its completion was already reported). But a
// request's ACT, column run and bus slots go to the earliest time that is
// free in those logs, which may be before commands placed for earlier
// requests to other banks: the younger request uses the time the older ones
// left idle while they waited for tRP/tRCD of their own bank, as an FR-FCFS
// controller with a queue of pending requests would. Within one bank, order
// is placement order (a PRE waits for every run placed to that bank). A read
// never goes before a placed write nor a write before a placed read, so the
// turnaround limits hold in both directions. How far back a request may go is
// bounded by the controller's queue: it may overtake at most queue_depth - 1
// requests placed before it on this pseudo-channel.
//
// Refresh is all-bank, due every tREFI; a due refresh waits for the work
// placed (JEDEC allows postponing refreshes), precharges every open bank and
// blocks ACTs for tRFC. A refresh cannot pre-empt commands already placed,
// so when the placed work runs past a due time the refresh follows it
// (postponed) and the next ones catch up back to back. No request is placed
// before a refresh already issued. Idle stretches spanning many refreshes are
// accounted in one step.
#include <cstdint>
#include <vector>

#include "arch/memory/dram/activate_window.h"
#include "arch/memory/dram/busy_timeline.h"
#include "arch/memory/dram/dram_config.h"
#include "arch/memory/dram/dram_stats.h"
#include "arch/memory/dram/row_request.h"
#include "common/trace_sink.h"

namespace npusim::arch::dram {

enum class DramCommand { activate, precharge, read, write };

class ChannelTiming {
 public:
  ChannelTiming(const DramConfig& config, DramStats& stats);

  // Places a request as early as every constraint allows and commits it.
  RowResult serve(const RowRequest& request);

  // Command-level probes for one bank, ignoring a refresh that may fall due.
  Cycles earliest(DramCommand command, std::uint32_t bank) const;
  bool can_issue(DramCommand command, std::uint32_t bank, Cycles at) const { return at >= earliest(command, bank); }
  // Opens `row` at cycle `at`; throws std::logic_error if that is illegal.
  void activate(std::uint32_t bank, std::uint32_t row, Cycles at);

  bool is_open(std::uint32_t bank, std::uint32_t row) const {
    return banks_[bank].open_row == static_cast<std::int64_t>(row);
  }
  bool is_closed(std::uint32_t bank) const { return banks_[bank].open_row < 0; }
  // Latest command placed so far: the scheduler's decision time.
  Cycles last_command() const { return last_command_; }
  Cycles next_refresh_due() const { return next_refresh_; }
  const DramTimings& timings() const { return t_; }
  std::uint32_t burst_cycles() const { return n_bl_; }

  // Records the data-bus time each row access takes, as slices on `track`
  // of `sink` labelled by direction and row outcome; null turns it off.
  void set_trace(TraceSink* sink, int track, const Clock& clock) {
    trace_ = sink;
    trace_track_ = track;
    trace_clock_ = clock;
  }

 private:
  struct Bank {
    std::int64_t open_row = -1;
    Cycles next_act = 0;
    Cycles next_pre = 0;
    Cycles next_rd = 0;
    Cycles next_wr = 0;
  };
  struct BankGroup {
    BusyTimeline columns;  // [first, last + tCCD_L) of every run placed in the group
    Cycles next_read_after_write = 0;
  };
  struct Plan {
    RowResult result;
    Cycles start = 0;     // first command of the request
    Cycles bus_from = 0;  // the run's bus slots are the first free ones from here
  };

  Plan plan(const RowRequest& request) const;
  void commit(const RowRequest& request, const Plan& plan);
  Cycles earliest_activate(std::uint32_t bank, Cycles from) const;
  Cycles earliest_column(std::uint32_t bank, bool is_write) const;
  // Places a run of n bursts whose first command may go at `ready` or later.
  void place_run(std::uint32_t group, Cycles ready, Cycles n, Plan& plan) const;
  void trace_bus(const RowRequest& request, const RowResult& result);
  void commit_activate(std::uint32_t bank, std::uint32_t row, Cycles at);
  void issue_refresh();
  void refresh_idle_until(Cycles horizon);
  std::uint32_t group_of(std::uint32_t bank) const { return bank / banks_per_group_; }

  DramTimings t_;
  std::uint32_t n_bl_;
  std::uint32_t slot_;     // data-bus cycles one burst needs: max(nBL, tCCD_S)
  std::uint32_t cadence_;  // cycles between commands of one run: max(tCCD_L, slot)
  std::uint32_t banks_per_group_;
  bool closed_page_;
  bool refresh_enabled_;
  DramStats& stats_;

  std::vector<Bank> banks_;
  std::vector<BankGroup> groups_;
  ActivateWindow acts_;
  BusyTimeline bus_;       // data-bus slots, in command time
  Cycles next_read_ = 0;   // tWTR_S after the latest write
  Cycles next_write_ = 0;  // read-to-write turnaround
  // Starts of the last queue_depth requests placed, oldest first once full:
  // a request cannot go before the start of one placed queue_depth ago.
  std::vector<Cycles> recent_starts_;
  std::size_t recent_head_ = 0;
  Cycles queue_floor_ = 0;
  Cycles refresh_end_ = 0;
  Cycles next_refresh_;
  Cycles last_command_ = 0;
  bool quiet_since_refresh_ = false;  // no ACT since the last REF: all banks closed and idle

  TraceSink* trace_ = nullptr;
  int trace_track_ = -1;
  Clock trace_clock_;
  std::vector<BusyTimeline::Interval> pieces_;  // bus pieces of the run being traced
};

// One cycle of bus turnaround between a read burst and a write burst, plus
// one of preamble: the usual RL + BL/2 - WL + 2 tCK rule [E].
inline constexpr std::uint32_t kReadToWriteBubble = 2;

}  // namespace npusim::arch::dram
