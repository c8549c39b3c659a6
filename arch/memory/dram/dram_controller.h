#pragma once
// A whole DRAM tier without SystemC: splits a transfer by the address mapping
// into row-level requests, one per (pseudo-channel, bank, row) it touches,
// and lets each pseudo-channel's scheduler and calculator place them. The
// TLM module is a thin wrapper; tests and tools may use this directly.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "arch/memory/dram/address_mapping.h"
#include "arch/memory/dram/channel_timing.h"
#include "arch/memory/dram/dram_config.h"
#include "arch/memory/dram/dram_scheduler.h"
#include "arch/memory/dram/dram_stats.h"
#include "common/trace_sink.h"

namespace npusim::arch::dram {

class DramController {
 public:
  DramController(const DramConfig& config, const std::string& stats_name);

  // Serves [address, address + length) (tier-relative, within capacity) that
  // arrives at cycle `arrival`; returns the cycle its last data beat is delivered.
  Cycles access(std::uint64_t address, std::uint64_t length, bool is_write, Cycles arrival);

  // Tracing, off while `sink` is null: each pseudo-channel records its
  // data-bus time per row access on thread "pc<N>" of `process`, and the
  // tier samples "<process>.bandwidth" (GB/s) once per microsecond of
  // simulated time, so the sample count stays bounded however long the run.
  void set_trace(TraceSink* sink, const std::string& process);
  // Emits the sample of the window in progress; call once at the end.
  void flush_trace();

  const DramConfig& config() const { return config_; }
  const AddressMapping& mapping() const { return mapping_; }
  ChannelTiming& channel(std::uint32_t pseudo_channel) { return channels_[pseudo_channel]; }
  DramStats& stats() { return stats_; }
  const DramStats& stats() const { return stats_; }

 private:
  void add_granule(std::uint64_t granule, std::uint32_t bursts, bool is_write, Cycles arrival);
  void sample_bandwidth(std::uint64_t bytes, Cycles done);

  const DramConfig config_;
  const AddressMapping mapping_;
  DramStats stats_;  // before channels_, which hold a reference to it
  std::unique_ptr<DramScheduler> scheduler_;
  std::vector<ChannelTiming> channels_;
  std::vector<std::vector<RowRequest>> batches_;  // per pseudo-channel, refilled per transaction
  std::vector<std::uint32_t> touched_;
  std::uint64_t sequence_ = 0;

  TraceSink* trace_ = nullptr;
  std::string counter_name_;
  std::uint64_t window_ = 0;        // index of the sampling window in progress
  std::uint64_t window_bytes_ = 0;  // bytes completed in it
};

}  // namespace npusim::arch::dram
