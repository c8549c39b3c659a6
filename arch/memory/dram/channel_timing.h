#pragma once
// Timing of one pseudo-channel, computed analytically: no clock, no events.
//
// State is a set of "earliest next" times: per bank (open row, next ACT, PRE,
// RD, WR), per bank group (next column command for tCCD_L, next ACT for
// tRRD_L, next RD after a write for tWTR_L), per pseudo-channel (tRRD_S, the
// last four ACTs for tFAW, tWTR_S, read-to-write turnaround, refresh) and the
// data bus. serve() places one RowRequest - a run of n column commands to one
// row - in one step: PRE and ACT if the row is not open, then the whole run in
// closed form. Cost is O(1) in n.
//
// The run's own cadence is max(tCCD_L, nBL): every command of a run goes to
// one bank, hence one bank group. The data bus is a fluid resource: each burst
// needs one slot of max(nBL, tCCD_S) cycles, and a run may use the slots that
// earlier runs in other bank groups left between their own commands. So the
// run's last command is
//     max(first + (n - 1) * cadence,  max(bus_cursor, first) + n * slot - slot)
// which is exact for a single run or a single burst, and for interleaved runs
// keeps the bus total exact while charging any wait to the run placed last.
//
// Commands are placed in the order serve() is called (the scheduler chooses
// that order), so ACTs are monotonic in time, as with an in-order command
// queue. Refresh is all-bank, due every tREFI; a due refresh waits for the
// run in flight (JEDEC allows postponing refreshes), precharges every open
// bank and blocks ACTs for tRFC. A refresh cannot pre-empt commands already
// placed, so when the placed work runs past a due time the refresh follows
// it (postponed, as JEDEC allows) and the next ones catch up back to back.
// Idle stretches spanning many refreshes are accounted in one step.
#include <array>
#include <cstdint>
#include <vector>

#include "arch/memory/dram/dram_config.h"
#include "arch/memory/dram/dram_stats.h"
#include "arch/memory/dram/row_request.h"

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

 private:
  struct Bank {
    std::int64_t open_row = -1;
    Cycles next_act = 0;
    Cycles next_pre = 0;
    Cycles next_rd = 0;
    Cycles next_wr = 0;
  };
  struct BankGroup {
    Cycles next_column = 0;
    Cycles next_act = 0;
    Cycles next_read_after_write = 0;
  };
  struct Plan {
    RowResult result;
    Cycles start = 0;       // first command of the request
    Cycles bus_cursor = 0;  // data-bus cursor after the run
  };

  Plan plan(const RowRequest& request) const;
  void commit(const RowRequest& request, const Plan& plan);
  Cycles earliest_activate(std::uint32_t bank) const;
  Cycles earliest_column(std::uint32_t bank, bool is_write) const;
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
  Cycles next_act_any_ = 0;  // tRRD_S
  std::array<Cycles, 4> last_acts_{};  // ring of the last four ACTs, for tFAW
  std::uint32_t act_ring_head_ = 0;
  std::uint64_t act_count_ = 0;
  Cycles next_read_ = 0;   // tWTR_S after the latest write
  Cycles next_write_ = 0;  // read-to-write turnaround
  Cycles bus_cursor_ = 0;
  Cycles refresh_end_ = 0;
  Cycles next_refresh_;
  Cycles last_command_ = 0;
  bool quiet_since_refresh_ = false;  // no ACT since the last REF: all banks closed and idle
};

// One cycle of bus turnaround between a read burst and a write burst, plus
// one of preamble: the usual RL + BL/2 - WL + 2 tCK rule [E].
inline constexpr std::uint32_t kReadToWriteBubble = 2;

}  // namespace npusim::arch::dram
