#pragma once
// Bounded on-chip queues between pipeline stages (layer-pipelined dataflow).
//
// A queue carries a stream of entries (micro-batches). Entry t occupies
// entry_bytes at address stream_address(q, t * entry_bytes) (address_map.h)
// and one of `entries` slots of storage. Producers (stores: MTE3 or FixPipe)
// write parts of an entry; it is full when entry_bytes have been written.
// Consumers (loads: MTE2) read parts of full entries; an entry is freed when
// read_bytes_per_entry have been read from it (several consumers may read
// the same bytes, e.g. every core of the next stage reads the whole
// activation row block). Back-pressure is real: a store into entry t waits
// inside b_transport until entry t - entries is freed, and a load from entry
// t waits until it is full. A TLM b_transport may wait(): initiators are the
// cores' pipe threads.
//
// The same block serves the barrier counters of address_map.h: a store is
// an arrival, a load waits for the count its address names. Arrivals are
// cleared by configure(), between jobs.
//
// Timing: the storage is on-chip SRAM carved from the L2/SRAM tier; a
// transfer occupies the queue's port for bytes / bytes_per_cycle and arrives
// latency_cycles later. Waiting for space or data comes on top.
#include <cstdint>
#include <memory>
#include <vector>

#include <systemc>
#include <tlm>
#include <tlm_utils/simple_target_socket.h>

#include "common/stat_group.h"
#include "common/units.h"

namespace npusim::arch {

struct StreamTiming {
  Clock clock{1e9};
  double bytes_per_cycle = 256;
  Cycles latency_cycles = 16;
};

struct StreamQueueSpec {
  Bytes entry_bytes = 0;
  std::uint32_t entries = 2;           // capacity in entries
  Bytes read_bytes_per_entry = 0;      // bytes all consumers read before an entry is freed
};

class StreamQueues : public sc_core::sc_module {
 public:
  tlm_utils::simple_target_socket<StreamQueues> socket;

  StreamQueues(const sc_core::sc_module_name& name, const StreamTiming& timing);

  // Replaces every queue (between jobs); queue q is specs[q].
  void configure(const std::vector<StreamQueueSpec>& specs);
  // Entries written but not yet freed, for checks after a job.
  std::uint64_t live_entries() const;

  const StatGroup& stats() const { return stats_; }

 private:
  struct Queue {
    StreamQueueSpec spec;
    std::vector<Bytes> written, read;  // per entry
    std::vector<bool> freed;
    std::uint64_t live = 0;
    Tick port_free = 0;
    sc_core::sc_event changed;
  };
  void b_transport(tlm::tlm_generic_payload& payload, sc_core::sc_time& delay);
  void barrier(tlm::tlm_generic_payload& payload, sc_core::sc_time& delay);
  static void grow(Queue& q, std::uint64_t entry);

  StreamTiming timing_;
  std::vector<std::unique_ptr<Queue>> queues_;
  std::vector<std::uint32_t> arrivals_;  // per barrier
  sc_core::sc_event arrived_;
  StatGroup stats_;
  Counter& bytes_written_;
  Counter& bytes_read_;
  Counter& writer_wait_ps_;
  Counter& reader_wait_ps_;
  Counter& peak_entries_;
  Counter& barrier_arrivals_;
  Counter& barrier_wait_ps_;
};

}  // namespace npusim::arch
