#include "arch/memory/dram/dram_controller.h"

#include <algorithm>
#include <stdexcept>

#include <fmt/format.h>

namespace npusim::arch::dram {
namespace {

constexpr Tick kTraceWindow = kTicksPerSecond / 1'000'000;  // 1 us per bandwidth sample

}  // namespace

DramController::DramController(const DramConfig& config, const std::string& stats_name)
    : config_(config),
      mapping_(config),
      stats_(stats_name),
      scheduler_(DramSchedulerRegistry::instance().create(config.scheduler)),
      batches_(config.pseudo_channels()) {
  channels_.reserve(config.pseudo_channels());
  for (std::uint32_t i = 0; i < config.pseudo_channels(); ++i) channels_.emplace_back(config_, stats_);
  stats_.pseudo_channels += config.pseudo_channels();
}

void DramController::set_trace(TraceSink* sink, const std::string& process) {
  trace_ = sink;
  counter_name_ = process + ".bandwidth";
  window_ = 0;
  window_bytes_ = 0;
  for (std::uint32_t i = 0; i < channels_.size(); ++i) {
    const int track = sink ? sink->track(process, fmt::format("pc{}", i)) : -1;
    channels_[i].set_trace(sink, track, config_.clock());
  }
}

// A transaction's bytes count in the window its last beat falls in (or the
// window in progress, if it completes before that one began).
void DramController::sample_bandwidth(std::uint64_t bytes, Cycles done) {
  const std::uint64_t window = config_.clock().to_ticks(static_cast<double>(done)) / kTraceWindow;
  if (window > window_) {
    flush_trace();
    // One zero marks an idle stretch, however many windows it spans.
    if (window > window_ + 1) trace_->counter(counter_name_, (window_ + 1) * kTraceWindow, 0.0);
    window_ = window;
  }
  window_bytes_ += bytes;
}

void DramController::flush_trace() {
  if (!trace_) return;
  const double seconds = ticks_to_seconds(kTraceWindow);
  trace_->counter(counter_name_, window_ * kTraceWindow, static_cast<double>(window_bytes_) / seconds / 1e9);
  window_bytes_ = 0;
}

void DramController::add_granule(std::uint64_t granule, std::uint32_t bursts, bool is_write, Cycles arrival) {
  const DramCoordinate c = mapping_.decode_granule(granule);
  const std::uint32_t bank = c.bank_group * config_.device.org.banks_per_group + c.bank;
  std::vector<RowRequest>& batch = batches_[c.pseudo_channel];
  if (batch.empty()) touched_.push_back(c.pseudo_channel);
  // Granules of one row reach a pseudo-channel back to back unless the
  // mapping puts bank or row bits below the column bits.
  if (!batch.empty() && batch.back().bank == bank && batch.back().row == c.row) {
    batch.back().bursts += bursts;
    return;
  }
  batch.push_back(RowRequest{bank, c.row, bursts, is_write, arrival, sequence_++});
}

Cycles DramController::access(std::uint64_t address, std::uint64_t length, bool is_write, Cycles arrival) {
  if (length == 0) return arrival;
  if (address >= config_.capacity || length > config_.capacity - address) {
    throw std::out_of_range(fmt::format("DRAM access [{:#x}, +{}) beyond capacity {}", address, length,
                                        config_.capacity));
  }
  const std::uint32_t shift = mapping_.interleave_shift();
  const std::uint64_t burst = config_.burst_bytes();
  const std::uint64_t end = address + length;
  const std::uint64_t first_granule = address >> shift;
  const std::uint64_t last_granule = (end - 1) >> shift;
  const std::uint32_t full_bursts = static_cast<std::uint32_t>(config_.interleave_bytes / burst);
  for (std::uint64_t g = first_granule; g <= last_granule; ++g) {
    std::uint32_t bursts = full_bursts;
    if (g == first_granule || g == last_granule) {
      const std::uint64_t lo = std::max(address, g << shift);
      const std::uint64_t hi = std::min(end, (g + 1) << shift);
      bursts = static_cast<std::uint32_t>((round_up(hi, burst) - lo / burst * burst) / burst);
    }
    add_granule(g, bursts, is_write, arrival);
  }
  Cycles done = arrival;
  for (std::uint32_t pc : touched_) {
    done = std::max(done, serve_batch(channels_[pc], *scheduler_, batches_[pc], config_.queue_depth));
  }
  touched_.clear();
  stats_.transactions += 1;
  (is_write ? stats_.bytes_written : stats_.bytes_read) += length;
  stats_.elapsed_cycles.value = std::max(stats_.elapsed_cycles.value, done);
  if (trace_) sample_bandwidth(length, done);
  return done;
}

}  // namespace npusim::arch::dram
