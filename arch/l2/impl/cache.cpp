// The L2 as a shared cache in front of HBM (910B-like: 192 MB, shared by all
// cores).
//
// Policy: write-back, write-allocate without fetch. A write marks its lines
// valid and dirty and reads nothing from below (write-validate, as GPU L2s
// with byte masks do; a partly written line counts as whole). A read miss
// fetches the missing lines from below; misses of one request that are
// contiguous in memory go down as one request. Dirty lines of an evicted block
// are written back as posted writes after the request's fetches, so they take
// HBM bandwidth from later requests but not from this one. With a write-back
// buffer they first gather there and go down together, in address order, once
// it holds `writeback_buffer` bytes: DRAM then turns its bus around once per
// batch instead of once per evicted block, as a controller's write queue,
// drained in bursts between reads, achieves.
//
// Timing: every request occupies the banks it touches (bank_array.h); a hit
// completes when its banks are done plus latency_cycles; a request with
// misses completes at max(banks done, last fetched byte arrives) plus
// latency_cycles: the fill streams through to the requester. The fill's bank
// time is booked when the request arrives rather than when the data does.
#include <algorithm>
#include <memory>

#include <fmt/format.h>

#include "arch/l2/bank_array.h"
#include "arch/l2/impl/line_mask.h"
#include "arch/l2/impl/sector_tags.h"
#include "arch/l2/l2_model.h"
#include "common/error.h"

namespace npusim::arch {
namespace {

SectorTags make_tags(const L2Config& c) {
  const Bytes set_bytes = c.block_bytes * static_cast<Bytes>(c.ways);
  if (c.capacity % set_bytes != 0) {
    throw InputError(fmt::format("{}: expected a multiple of tag_block x ways = {} B for a cache, got {} B",
                                 c.capacity_where, set_bytes, c.capacity));
  }
  return SectorTags(c.capacity, c.block_bytes, c.ways);
}

class Cache final : public L2Model {
 public:
  explicit Cache(const L2Config& c)
      : line_(c.line_bytes),
        block_(c.block_bytes),
        lines_per_block_(static_cast<unsigned>(c.block_bytes / c.line_bytes)),
        latency_(c.clock.to_ticks(static_cast<double>(c.latency_cycles))),
        writeback_buffer_(c.writeback_buffer),
        tags_(make_tags(c)),
        banks_(c.banks, c.line_bytes, c.bank_bytes_per_cycle, c.clock),
        stats_("l2", "shared L2 cache"),
        hits_(stats_.add_counter("hits", "lines found valid", "lines")),
        misses_(stats_.add_counter("misses", "lines not valid (read: fetched; write: allocated)", "lines")),
        bytes_read_(stats_.add_counter("bytes_read", "bytes read by requesters", "B")),
        bytes_written_(stats_.add_counter("bytes_written", "bytes written by requesters", "B")),
        fill_bytes_(stats_.add_counter("fill_bytes", "bytes fetched from the tier below", "B")),
        evictions_(stats_.add_counter("evictions", "tag blocks evicted", "1")),
        writebacks_(stats_.add_counter("writebacks", "evicted tag blocks holding dirty lines", "1")),
        writeback_bytes_(stats_.add_counter("writeback_bytes", "dirty bytes written to the tier below", "B")),
        stall_(stats_.add_counter("bank_conflict_stall", "completion delay caused by busy banks", "ps")) {}

  bool needs_backing() const override { return true; }
  StatGroup& stats() override { return stats_; }

  Tick access(Tick now, bool write, std::uint64_t address, Bytes bytes, Backing& below) override {
    (write ? bytes_written_ : bytes_read_) += bytes;
    if (bytes == 0) return now + latency_;
    const Tick banks_done = banks_.book(now, now, address, bytes, stall_);

    fetch_done_ = now;
    pending_bytes_ = 0;
    dirty_victims_.clear();
    const std::uint64_t first = address / block_, last = (address + bytes - 1) / block_;
    for (std::uint64_t b = first; b <= last; ++b) {
      const std::uint64_t base = b * block_;
      const unsigned lo = b == first ? static_cast<unsigned>((address - base) / line_) : 0;
      const unsigned hi =
          b == last ? static_cast<unsigned>((address + bytes - 1 - base) / line_) : lines_per_block_ - 1;
      const std::uint64_t lines = line_span(lo, hi);

      bool hit = false;
      SectorTags::Victim victim;
      SectorTags::Entry& entry = tags_.touch(b, hit, victim);
      if (!hit && victim.block != SectorTags::kEmpty) {
        evictions_ += 1;
        if (victim.dirty) dirty_victims_.push_back(victim);
      }
      const std::uint64_t missing = lines & ~entry.valid;
      hits_ += line_count(lines & entry.valid);
      misses_ += line_count(missing);
      entry.valid |= lines;
      if (write) {
        entry.dirty |= lines;
      } else {
        for_each_line_run(missing, [&](unsigned line, unsigned count) {
          queue_fetch(now, below, base + line * line_, count * line_);
        });
      }
    }
    flush_fetch(now, below);

    for (const auto& v : dirty_victims_) {
      writebacks_ += 1;
      for_each_line_run(v.dirty, [&](unsigned line, unsigned count) {
        pending_writes_.push_back({v.block * block_ + line * line_, count * line_});
        pending_write_bytes_ += count * line_;
      });
    }
    if (pending_write_bytes_ > 0 && pending_write_bytes_ >= writeback_buffer_) drain_writes(now, below);
    return std::max(banks_done, fetch_done_) + latency_;
  }

 private:
  struct WriteRun {
    std::uint64_t address;
    Bytes bytes;
  };

  // Sends the gathered write-backs below in address order, merging runs
  // that touch, so rows open once per batch.
  void drain_writes(Tick now, Backing& below) {
    std::sort(pending_writes_.begin(), pending_writes_.end(),
              [](const WriteRun& a, const WriteRun& b) { return a.address < b.address; });
    std::size_t i = 0;
    while (i < pending_writes_.size()) {
      WriteRun run = pending_writes_[i++];
      while (i < pending_writes_.size() && pending_writes_[i].address == run.address + run.bytes) {
        run.bytes += pending_writes_[i++].bytes;
      }
      below.write_back(now, run.address, run.bytes);
      writeback_bytes_ += run.bytes;
    }
    pending_writes_.clear();
    pending_write_bytes_ = 0;
  }

  void queue_fetch(Tick now, Backing& below, std::uint64_t address, Bytes bytes) {
    if (pending_bytes_ && pending_address_ + pending_bytes_ == address) {
      pending_bytes_ += bytes;
      return;
    }
    flush_fetch(now, below);
    pending_address_ = address;
    pending_bytes_ = bytes;
  }
  void flush_fetch(Tick now, Backing& below) {
    if (!pending_bytes_) return;
    fetch_done_ = std::max(fetch_done_, below.fetch(now, pending_address_, pending_bytes_));
    fill_bytes_ += pending_bytes_;
    pending_bytes_ = 0;
  }

  Bytes line_, block_;
  unsigned lines_per_block_;
  Tick latency_;
  Bytes writeback_buffer_;
  SectorTags tags_;
  BankArray banks_;
  StatGroup stats_;
  Counter &hits_, &misses_, &bytes_read_, &bytes_written_, &fill_bytes_, &evictions_, &writebacks_,
      &writeback_bytes_, &stall_;

  // Per-request scratch, kept as members so a request allocates nothing.
  Tick fetch_done_ = 0;
  std::uint64_t pending_address_ = 0;
  Bytes pending_bytes_ = 0;
  std::vector<SectorTags::Victim> dirty_victims_;

  // The write-back buffer: dirty runs evicted but not yet sent below.
  std::vector<WriteRun> pending_writes_;
  Bytes pending_write_bytes_ = 0;
};

const L2Registration reg("l2", "cache",
                         "set-associative sectored L2 cache, LRU, write-back/write-allocate, banked",
                         [](const L2Config& c) { return std::make_unique<Cache>(c); });

}  // namespace
}  // namespace npusim::arch
